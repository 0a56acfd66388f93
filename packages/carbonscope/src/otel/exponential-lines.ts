import { bucketEndText, bucketEndTexts } from './bucket-ends.js';
import { classicBuckets, exponentialBound } from './exponential-buckets.js';
import { ENDS_RUN, type ExponentialEnds, runStart } from './exponential-ends.js';
import type { ExpositionBuffer } from './exposition-buffer.js';

type ExponentialHistogram = import('@opentelemetry/sdk-metrics').ExponentialHistogram;
type Buckets = ExponentialHistogram['positive'];

/** The ends of the zero bucket's line (0) and the +Inf bucket's (1). */
const ZERO_AND_INF = {
  bytes: Uint8Array.from('0"} +Inf"} ', (c) => c.charCodeAt(0)),
  at: new Uint16Array([0, 4, 11]),
};

/**
 * An exponential histogram's bucket lines, those of the classic one classicBuckets makes of it
 * (its `_count` and `_sum` lines are the writer's, the point's own count and sum): its negative
 * buckets from the farthest from zero, the zero bucket, the positive ones, then +Inf (empty)
 * unless a bound was +Inf already. `bucket` is what the series' bucket lines begin with
 * (`…_bucket{…,le="`). The counts are read from the point where they are, with no classic copy
 * of them made at each scrape; the ends from the runs `ends` keeps by scale, which `collection`
 * marks as written from.
 */
export function exponentialBucketLines(
  out: ExpositionBuffer,
  bucket: Uint8Array,
  value: ExponentialHistogram,
  ends: ExponentialEnds,
  collection: number,
): void {
  const { scale, zeroCount, negative, positive } = value;
  if (!keptLayout(scale, negative.offset, positive.offset)) {
    bucketLinesOnce(out, bucket, value);
    return;
  }
  const { offset: above, bucketCounts: positives } = positive;
  let cumulative = sideLines(out, bucket, ends, collection, scale, true, negative, 0);
  if (zeroCount > 0 || negative.bucketCounts.length > 0) {
    cumulative += zeroCount ?? 0;
    bucketLine(out, bucket, ZERO_AND_INF.bytes, ZERO_AND_INF.at, 0, cumulative);
  }
  cumulative = sideLines(out, bucket, ends, collection, scale, false, positive, cumulative);
  // A last bound of +Inf is the +Inf bucket already (bucketEndTexts).
  const infinite =
    positives.length > 0 && exponentialBound(scale, above + positives.length) === Infinity;
  if (!infinite) bucketLine(out, bucket, ZERO_AND_INF.bytes, ZERO_AND_INF.at, 1, cumulative);
}

/**
 * One side of zero's bucket lines after `cumulative`, the negative side's farthest from zero
 * first; the count they add up to. A positive bucket's line ends at its upper bound,
 * base^(index+1); a negative one's at -base^index.
 */
function sideLines(
  out: ExpositionBuffer,
  bucket: Uint8Array,
  ends: ExponentialEnds,
  collection: number,
  scale: number,
  negative: boolean,
  { offset, bucketCounts }: Buckets,
  cumulative: number,
): number {
  const last = bucketCounts.length - 1;
  const step = negative ? -1 : 1;
  for (let k = negative ? last : 0; k >= 0 && k <= last; ) {
    const first = runStart(offset + k);
    const run = ends.run(scale, negative, first, collection);
    // One past the point's last bucket in this run, the way the side is written.
    const stop = negative
      ? Math.max(first - offset, 0) - 1
      : Math.min(first + ENDS_RUN - offset, bucketCounts.length);
    for (; k !== stop; k += step) {
      cumulative += bucketCounts[k] ?? 0;
      if (run) bucketLine(out, bucket, run.bytes, run.at, offset + k - first, cumulative);
      else {
        const bound = negative
          ? -exponentialBound(scale, offset + k)
          : exponentialBound(scale, offset + k + 1);
        bucketLineOnce(out, bucket, bound, cumulative);
      }
    }
  }
  return cumulative;
}

/**
 * A point whose bounds cannot be kept by index (a bridge's fractional scale or offset, or one
 * past 2^52): its classic histogram's bucket lines, made for this scrape alone.
 */
function bucketLinesOnce(
  out: ExpositionBuffer,
  bucket: Uint8Array,
  value: ExponentialHistogram,
): void {
  const { boundaries, counts } = classicBuckets(value).buckets;
  let cumulative = 0;
  bucketEndTexts(boundaries, counts.length).forEach((end, i) => {
    cumulative += counts[i] ?? 0;
    out.bytes(bucket);
    out.text(end);
    out.number(cumulative);
    out.newline();
  });
}

/** Whether a point's bucket indexes are integers a run can be found by (the SDK's always are). */
function keptLayout(scale: number, negative: number, positive: number): boolean {
  return (
    Number.isInteger(scale) &&
    Number.isSafeInteger(negative) &&
    Number.isSafeInteger(positive) &&
    Math.abs(negative) < 2 ** 52 &&
    Math.abs(positive) < 2 ** 52
  );
}

/** One bucket line: the series' start, the line's end from `ends`, the count so far. */
function bucketLine(
  out: ExpositionBuffer,
  bucket: Uint8Array,
  ends: Uint8Array,
  at: Uint16Array,
  line: number,
  cumulative: number,
): void {
  out.bytes(bucket);
  out.range(ends, at[line] as number, at[line + 1] as number);
  out.number(cumulative);
  out.newline();
}

/** One bucket line whose end is made as it is written (past MAX_KEPT_RUNS). */
function bucketLineOnce(
  out: ExpositionBuffer,
  bucket: Uint8Array,
  bound: number,
  cumulative: number,
): void {
  out.bytes(bucket);
  out.text(bucketEndText(bound));
  out.number(cumulative);
  out.newline();
}
