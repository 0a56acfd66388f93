import { bucketEndTexts } from './bucket-ends.js';
import { classicBuckets } from './exponential-buckets.js';

type ExponentialHistogram = import('@opentelemetry/sdk-metrics').ExponentialHistogram;

/** The ends of one layout's bucket lines (`1.0905077326652577"} `), side by side. */
export interface EndsBlock {
  readonly bytes: Uint8Array;
  /** Where each line's end begins in `bytes`; one more, where the last one ends. */
  readonly at: Uint32Array;
}

interface KeptEnds extends EndsBlock {
  /** The last collection that wrote them (ExponentialEnds' caller counts them). */
  seen: number;
}

/**
 * An exponential point's layout: what its classic bounds follow from (classicBuckets). The
 * scale gives the base; the offsets and lengths, which buckets; the zero bucket is written when
 * it has a count or a negative bucket is below it. Two numbers that print alike (0 and -0) make
 * the same bounds.
 */
function layoutKey(value: ExponentialHistogram): string {
  const { scale, zeroCount, positive, negative } = value;
  const negatives = negative.bucketCounts.length;
  const zero = zeroCount > 0 || negatives > 0 ? 1 : 0;
  return `${scale} ${negative.offset} ${negatives} ${zero} ${positive.offset} ${positive.bucketCounts.length}`;
}

function endsBlock(value: ExponentialHistogram): EndsBlock {
  const { boundaries, counts } = classicBuckets(value).buckets;
  const texts = bucketEndTexts(boundaries, counts.length);
  const at = new Uint32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) {
    at[i + 1] = (at[i] as number) + (texts[i] as string).length;
  }
  // ASCII only (digits, `.`, `e`, `+`, `-`, `Inf`, `"} `): one byte a character. An allocation
  // of its own: Buffer.from's shared pool would keep other code's bytes alive with these.
  const bytes = Buffer.allocUnsafeSlow(at[texts.length] as number);
  bytes.write(texts.join(''), 0, 'latin1');
  return { bytes, at };
}

/**
 * The bucket line ends of exponential histograms written as classic ones, by layout. What the
 * bounds are follows from a point's scale and the offsets and lengths of its buckets alone, and
 * those change only when a value falls outside the buckets a series has or makes it rescale:
 * from one scrape to the next nearly every series keeps its layout. Before, a series' ends were
 * made again at every scrape (a String(number) per bucket, up to 160 of them, and their bytes),
 * as many times as the metric had series, since one metric's series rarely share a layout.
 * Series laid out alike share one entry; only the latest collection's layouts are kept, so there
 * are at most as many as it had exponential series, and a layout no series has any more (one
 * rescaled, one gone) is dropped at the end of the collection that no longer wrote it.
 */
export class ExponentialEnds {
  private readonly kept = new Map<string, KeptEnds>();

  /** The ends of `value`'s layout, made at the first collection that has it. */
  of(value: ExponentialHistogram, collection: number): EndsBlock {
    const key = layoutKey(value);
    const known = this.kept.get(key);
    if (known !== undefined) {
      known.seen = collection;
      return known;
    }
    const made: KeptEnds = { ...endsBlock(value), seen: collection };
    this.kept.set(key, made);
    return made;
  }

  /** Drops the layouts `collection` did not write. */
  forgetUnused(collection: number): void {
    for (const [key, ends] of this.kept) {
      if (ends.seen !== collection) this.kept.delete(key);
    }
  }

  /** The layouts kept now. */
  get size(): number {
    return this.kept.size;
  }
}
