import { expect } from 'chai';
import {
  type GrowthTrend,
  growthTrend,
  judgeGrowth,
  type Reading,
  t975,
  type Verdict,
} from '../../bench/growth-trend.js';

// The heap (MB) after each full collection in three soaks of the same code on 2026-12-04, as the
// soak printed them (rounded to 1 MB; the log keeps no times, so they are spread evenly over the
// measured window). Two default soaks of 60 s: one FAILED on the medians of its thirds (35.1 ->
// 39.1 MB, +11.4 %), the next PASSED (37.4 -> 36.9 MB, -1.3 %).
const FAILED_60S = [37, 35, 39, 40, 41, 41, 39];
const PASSED_60S = [37, 39, 39, 38, 37, 42];
// A 600 s soak (medians of thirds 37.5 -> 37.5 MB).
const READ_600S = [
  41, 42, 37, 39, 36, 37, 37, 40, 39, 37, 38, 37, 38, 39, 39, 38, 36, 38, 37, 42, 38, 36, 40, 40,
  41, 36, 38, 37, 39, 36, 43, 36, 37, 38, 37, 36, 35, 42, 39, 38, 37, 37, 37, 38, 34, 41, 36, 35,
  36, 36, 38, 39, 38, 36, 39, 40, 41, 36, 41, 43, 38, 36, 36, 35, 36, 39, 40, 36, 37, 36, 42, 37,
  38, 42, 39, 37, 35, 37, 38, 36, 35, 38, 39, 37, 35, 34, 40, 38, 41, 36, 35, 35, 38, 37, 42, 41,
  40, 42, 35, 39, 38, 34, 36, 35, 38, 40, 37, 38, 40, 40, 36, 41, 35, 35, 34, 42, 41, 41, 46, 35,
  36, 37, 37, 35, 38, 36, 35, 36, 39, 35, 35, 42, 36, 34, 37, 44, 36, 42, 38, 39, 40, 41,
];
const LIMIT = 0.1;

/** `values` spread evenly over `seconds`, plus `mbPerMinute` of growth. */
function spread(values: readonly number[], seconds: number, mbPerMinute = 0): Reading[] {
  return values.map((mb, i) => {
    const atSeconds = (i * seconds) / values.length;
    return { atSeconds, value: mb + (mbPerMinute * atSeconds) / 60 };
  });
}

/** A seeded generator in [0, 1) (mulberry32), so every run draws the same sequences. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A soak's readings under the 600 s soak's noise: full collections `perMinute` on average at
 * uneven gaps (0.5–1.5 of the mean), each heap one of the 142 real readings drawn at random (their
 * lag-1 autocorrelation is 0.07: little order to keep), plus `mbPerMinute` of growth.
 */
function resampled(seed: number, seconds: number, perMinute: number, mbPerMinute: number) {
  const random = seeded(seed);
  const gap = 60 / perMinute;
  const readings: Reading[] = [];
  for (let at = random() * gap; at < seconds; at += gap * (0.5 + random())) {
    const mb = READ_600S[Math.floor(random() * READ_600S.length)];
    readings.push({ atSeconds: at, value: mb + (mbPerMinute * at) / 60 });
  }
  return readings;
}

/** The soak's schedule: judged at 60 s, then every 30 s while unresolved, up to 300 s. */
function asTheSoakDoes(readings: readonly Reading[]): Verdict {
  let verdict: Verdict = 'UNRESOLVED';
  for (let seconds = 60; seconds <= 300 && verdict === 'UNRESOLVED'; seconds += 30) {
    const read = readings.filter((r) => r.atSeconds < seconds);
    if (read.length >= 6) verdict = judgeGrowth(growthTrend(read), LIMIT);
  }
  return verdict;
}

function tally(verdicts: Verdict[]): Record<Verdict, number> {
  const counts = { PASS: 0, FAIL: 0, UNRESOLVED: 0 };
  for (const v of verdicts) counts[v]++;
  return counts;
}

const judged = (t: GrowthTrend) => judgeGrowth(t, LIMIT);
const seeds = Array.from({ length: 500 }, (_, i) => i + 1);

describe('bench: the heap growth trend and its verdict', () => {
  it("reads Student's t at 95 % from the table and, past 30 degrees, the expansion", () => {
    expect(t975(1)).to.equal(12.706);
    expect(t975(5)).to.equal(2.571);
    // Numerical integration of t's density: 2.0395 at 31, 1.9771 at 140.
    expect(t975(31)).to.be.closeTo(2.0395, 0.0005);
    expect(t975(140)).to.be.closeTo(1.9771, 0.0005);
    expect(t975(0)).to.be.NaN;
  });

  it('reads a straight line exactly, with no interval around it', () => {
    const t = growthTrend(spread([38, 38, 38, 38, 38, 38], 60, 1.9));
    expect(t.perMinute).to.be.closeTo(1.9, 1e-9);
    expect(t.growth).to.be.closeTo((1.9 * 50) / 60 / 38, 1e-9);
    expect(t.high - t.low).to.be.closeTo(0, 1e-9);
    expect(t.windowSeconds).to.equal(50);
  });

  it('leaves the default soak that FAILED on its thirds unresolved: 7 readings cannot tell', () => {
    const t = growthTrend(spread(FAILED_60S, 60));
    expect(t.growth).to.be.closeTo(0.117, 0.001);
    expect(t.low).to.be.below(LIMIT);
    expect(t.high).to.be.above(LIMIT);
    expect(judged(t)).to.equal('UNRESOLVED');
  });

  it('leaves the default soak that PASSED on its thirds unresolved too', () => {
    const t = growthTrend(spread(PASSED_60S, 60));
    expect(t.low).to.be.below(LIMIT);
    expect(t.high).to.be.above(LIMIT);
    expect(judged(t)).to.equal('UNRESOLVED');
  });

  it('PASSes the 600 s soak: 142 readings with no trend', () => {
    const t = growthTrend(spread(READ_600S, 600));
    expect(t.growth).to.be.closeTo(-0.006, 0.001);
    expect(t.high).to.be.below(0.05);
    expect(judged(t)).to.equal('PASS');
  });

  it('FAILs the same 142 readings leaking 2 MB/min', () => {
    const t = growthTrend(spread(READ_600S, 600, 2));
    expect(t.perMinute).to.be.closeTo(2 - 0.022, 0.001);
    expect(t.low).to.be.above(0.4);
    expect(judged(t)).to.equal('FAIL');
  });

  it('over 300 s at 7 full collections a minute: PASSes flat heaps, FAILs 2 MB/min', () => {
    const flat = tally(seeds.map((s) => judged(growthTrend(resampled(s, 300, 7, 0)))));
    const leak = tally(seeds.map((s) => judged(growthTrend(resampled(s, 300, 7, 2)))));
    expect(flat.FAIL, 'flat heaps FAILED').to.equal(0);
    // 396 of 500 PASS; the others' intervals still reach 10 %.
    expect(flat.PASS / seeds.length).to.be.above(0.75);
    expect(leak.PASS, 'leaks PASSED').to.equal(0);
    expect(leak.FAIL / seeds.length).to.be.above(0.95);
  });

  it('as the soak extends itself: flat heaps PASS, 2 MB/min FAILs, 4 MB/min rarely PASSes', () => {
    const flat = tally(seeds.map((s) => asTheSoakDoes(resampled(s, 300, 7, 0))));
    const leak2 = tally(seeds.map((s) => asTheSoakDoes(resampled(s, 300, 7, 2))));
    const leak4 = tally(seeds.map((s) => asTheSoakDoes(resampled(s, 300, 7, 4))));
    expect(flat.FAIL / seeds.length, 'flat heaps FAILED').to.be.at.most(0.01);
    expect(flat.PASS / seeds.length).to.be.above(0.9);
    // Its PASSes stop at 60-90 s, where 2 MB/min is 5-8 % of the heap: under the bound.
    expect(leak2.FAIL / seeds.length).to.be.above(0.8);
    expect(leak4.PASS / seeds.length, '4 MB/min PASSED').to.be.below(0.06);
  });
});
