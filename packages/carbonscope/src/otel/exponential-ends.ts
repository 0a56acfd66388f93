import { bucketEndTexts } from './bucket-ends.js';
import { exponentialBound } from './exponential-buckets.js';

/** Bucket indexes a run of ends covers: a series' up to 160 buckets span 5 or 6 of them. */
export const ENDS_RUN = 32;

/**
 * Runs kept at most: 1.5 MB at scale 20 for bounds near 1, 1.7 MB for the longest ends (bounds
 * with an exponent, 1.3407807929942597e+154; measured at stop 72). Series spread alike need few:
 * 26 for 60 series over 10 routes, 35 for the 3,004 at the 600-name cap. Series each at scale 20
 * and apart from all others need 5 or 6 each, 16,676 (25 MB) for 3,004: past this many, the
 * writer makes each line's end as it writes it (ExponentialEnds.run answers undefined), as it
 * did for every bucket before stop 71.
 */
export const MAX_KEPT_RUNS = 1024;

/**
 * The ends of the bucket lines (`1.0905077326652577"} `) of ENDS_RUN consecutive bucket indexes
 * at one scale, on one side of zero, side by side.
 */
export interface EndsRun {
  readonly bytes: Uint8Array;
  /** Where each index's end begins in `bytes`; one more, where the last one ends. */
  readonly at: Uint16Array;
  /** The first bucket index it covers. */
  readonly first: number;
}

interface KeptRun extends EndsRun {
  /** The last collection that wrote from it (ExponentialEnds' caller counts them). */
  seen: number;
}

/** One side of zero's runs: by scale, then by the run's first index. */
type RunsByScale = Map<number, Map<number, KeptRun>>;

/** The first index of the run that holds bucket `index`'s end. */
export function runStart(index: number): number {
  return Math.floor(index / ENDS_RUN) * ENDS_RUN;
}

/**
 * A positive bucket's line ends at its upper bound, base^(index+1); a negative one's at
 * -base^index (classicBuckets).
 */
function endsRun(scale: number, negative: boolean, first: number): EndsRun {
  const bounds: number[] = [];
  for (let index = first; index < first + ENDS_RUN; index++) {
    bounds.push(negative ? -exponentialBound(scale, index) : exponentialBound(scale, index + 1));
  }
  const texts = bucketEndTexts(bounds, bounds.length);
  const at = new Uint16Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) {
    at[i + 1] = (at[i] as number) + (texts[i] as string).length;
  }
  // ASCII only (digits, `.`, `e`, `+`, `-`, `Inf`, `"} `): one byte a character. An allocation
  // of its own: Buffer.from's shared pool would keep other code's bytes alive with these.
  const bytes = Buffer.allocUnsafeSlow(at[texts.length] as number);
  bytes.write(texts.join(''), 0, 'latin1');
  return { bytes, at, first };
}

/**
 * The bucket line ends of exponential histograms written as classic ones, in runs of ENDS_RUN
 * bucket indexes by scale and side. A bucket's bound follows from its scale and index alone, so
 * one run serves every series at that scale whose buckets cross it, whatever their offsets and
 * lengths: series of one metric, spread alike, mostly share their scale and overlap. Until
 * stop 72 the ends were kept per layout (scale, offsets, lengths), which series almost never
 * share: at the 600-name cap, 2,721 layouts held 10.6 MB between scrapes. Only the runs the
 * latest collection wrote from are kept, MAX_KEPT_RUNS at most: one no series crosses any more
 * (one rescaled, one gone) is dropped at the end of the collection that no longer wrote from it.
 */
export class ExponentialEnds {
  /**
   * Each side's runs by scale, then by the run's first index: the sides apart, not keyed as one
   * number (scale * 2 + 1 for negative), which a bridge's scale past 2^52 rounds to the other's.
   */
  private readonly positive: RunsByScale = new Map();
  private readonly negative: RunsByScale = new Map();
  private runs = 0;

  /**
   * The run that begins at `first` (runStart), made at the first collection that needs it;
   * undefined where MAX_KEPT_RUNS are kept and it is not one of them.
   */
  run(scale: number, negative: boolean, first: number, collection: number): EndsRun | undefined {
    const side = negative ? this.negative : this.positive;
    let runs = side.get(scale);
    if (runs === undefined) {
      runs = new Map();
      side.set(scale, runs);
    }
    const known = runs.get(first);
    if (known !== undefined) {
      known.seen = collection;
      return known;
    }
    if (this.runs >= MAX_KEPT_RUNS) return undefined;
    const made: KeptRun = { ...endsRun(scale, negative, first), seen: collection };
    runs.set(first, made);
    this.runs++;
    return made;
  }

  /** Drops the runs `collection` did not write from. */
  forgetUnused(collection: number): void {
    this.forgetIn(this.positive, collection);
    this.forgetIn(this.negative, collection);
  }

  private forgetIn(side: RunsByScale, collection: number): void {
    for (const [scale, runs] of side) {
      for (const [first, run] of runs) {
        if (run.seen === collection) continue;
        runs.delete(first);
        this.runs--;
      }
      if (runs.size === 0) side.delete(scale);
    }
  }

  /** The runs kept now. */
  get size(): number {
    return this.runs;
  }
}
