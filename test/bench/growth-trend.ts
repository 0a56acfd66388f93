/**
 * Growth of a noisy series over its window, from a least-squares line through every reading and
 * that slope's confidence interval, and the verdict against a limit it supports: PASS or FAIL
 * only when the whole interval lies on one side of the limit.
 */

/** One reading: when (s, any origin) and what (e.g. MB). */
export interface Reading {
  atSeconds: number;
  value: number;
}

/** The least-squares trend of readings, as growth over the window they span. */
export interface GrowthTrend {
  readings: number;
  /** From the first reading to the last. */
  windowSeconds: number;
  /** The line's value at the first reading: the base the growth is a fraction of. */
  start: number;
  /** The slope, per minute. */
  perMinute: number;
  /** slope × window / start. */
  growth: number;
  /** The two-sided 95 % confidence interval of `growth` (NaN with fewer than 3 readings). */
  low: number;
  high: number;
}

export type Verdict = 'PASS' | 'FAIL' | 'UNRESOLVED';

/**
 * Student's t at 0.975 for 1–30 degrees of freedom (standard tables); beyond, the Cornish–Fisher
 * expansion below is within 0.001 of it.
 */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];
const Z_975 = 1.959964;

/** The two-sided 95 % quantile of Student's t with `df` degrees of freedom. */
export function t975(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= T_975.length) return T_975[Math.floor(df) - 1];
  const z = Z_975;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/**
 * The least-squares line through all readings, and its slope's 95 % interval (Student's t on the
 * residuals), as growth over the window. Every reading weighs in, so one collection that caught
 * more in flight moves the line by 1/n of it, where medians of thirds of a few readings moved by
 * all of it. The interval assumes readings that are independent around the line; the heap after
 * successive full collections of the soak is (lag-1 autocorrelation 0.07 over 142).
 */
export function growthTrend(readings: readonly Reading[]): GrowthTrend {
  const n = readings.length;
  let sumT = 0;
  let sumV = 0;
  for (const r of readings) {
    sumT += r.atSeconds;
    sumV += r.value;
  }
  const meanT = sumT / n;
  const meanV = sumV / n;
  let sxx = 0;
  let sxy = 0;
  for (const r of readings) {
    sxx += (r.atSeconds - meanT) ** 2;
    sxy += (r.atSeconds - meanT) * (r.value - meanV);
  }
  const slope = sxy / sxx;
  let squares = 0;
  for (const r of readings) squares += (r.value - meanV - slope * (r.atSeconds - meanT)) ** 2;
  const slopeError = Math.sqrt(squares / (n - 2) / sxx);
  const first = readings[0]?.atSeconds ?? Number.NaN;
  const windowSeconds = (readings[n - 1]?.atSeconds ?? Number.NaN) - first;
  const start = meanV + slope * (first - meanT);
  const growth = (slope * windowSeconds) / start;
  const half = (t975(n - 2) * slopeError * windowSeconds) / start;
  return {
    readings: n,
    windowSeconds,
    start,
    perMinute: slope * 60,
    growth,
    low: growth - half,
    high: growth + half,
  };
}

/**
 * PASS when the whole interval is under `limit`, FAIL when it is all at or over it, else
 * UNRESOLVED: the readings cannot tell growth under the limit from growth over it.
 */
export function judgeGrowth(trend: GrowthTrend, limit: number): Verdict {
  if (trend.high < limit) return 'PASS';
  if (trend.low >= limit) return 'FAIL';
  return 'UNRESOLVED';
}
