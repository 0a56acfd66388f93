type Histogram = import('@opentelemetry/sdk-metrics').Histogram;
type ExponentialHistogram = import('@opentelemetry/sdk-metrics').ExponentialHistogram;

/** base^index = 2^(index * 2^-scale): exact powers of two for scale <= 0. */
export function exponentialBound(scale: number, index: number): number {
  return 2 ** (index * 2 ** -scale);
}

/**
 * An exponential histogram's point as a classic one, for a text exposition: the Prometheus text
 * format has no native histogram, and one written as nothing (the OTel serializer's `untyped`
 * header without a sample) left a user who chose exponential aggregation with no data at all.
 * Each bucket becomes a bound at its upper end (base^(index+1) for a positive one, -base^index
 * for a negative one), the zero bucket a bound at 0; the counts are the point's, not re-bucketed,
 * so `histogram_quantile` over `_bucket` interpolates within the SDK's own buckets. The bounds
 * follow the point's scale and offset, which the SDK changes as values spread: a scrape may have
 * other `le` values than the one before (native histograms, scraped as protobuf, do not).
 */
export function classicBuckets(value: ExponentialHistogram): Histogram {
  const { scale, zeroCount, positive, negative } = value;
  const bound = (index: number) => exponentialBound(scale, index);
  const boundaries: number[] = [];
  const counts: number[] = [];
  for (let k = negative.bucketCounts.length - 1; k >= 0; k--) {
    boundaries.push(-bound(negative.offset + k));
    counts.push(negative.bucketCounts[k] ?? 0);
  }
  if (zeroCount > 0 || counts.length > 0) {
    boundaries.push(0);
    counts.push(zeroCount);
  }
  for (let k = 0; k < positive.bucketCounts.length; k++) {
    boundaries.push(bound(positive.offset + k + 1));
    counts.push(positive.bucketCounts[k] ?? 0);
  }
  // The +Inf bucket: empty, every value is in one of the above.
  counts.push(0);
  return {
    buckets: { boundaries, counts },
    sum: value.sum,
    count: value.count,
    min: value.min,
    max: value.max,
  };
}
