/** What a value beyond a set's capacity or length limit is reported as. */
export const OVERFLOW_LABEL = 'other';

export interface BoundedLabelSetOptions {
  /** Distinct values admitted over the life of the set, pinned values not counted. */
  capacity: number;
  /** The longest value admitted, in UTF-16 units; a longer one is reported as the overflow. */
  maxLength: number;
  /** The value every refused value is reported as; `other` by default. */
  overflow?: string;
  /** Values always admitted and never counted against the capacity (e.g. the configured zone). */
  pinned?: readonly string[];
  /**
   * Told of the first value refused for want of room and of the first refused for its length,
   * once each for the life of the set: a label that overflows quietly reads `other` for good.
   */
  onRefused?: (value: string, reason: RefusalReason) => void;
}

/** Why a value was reported as the overflow: the set was full, or the value too long. */
export type RefusalReason = 'capacity' | 'length';

/**
 * The values one metric label may take over the life of a process: the pinned ones, then the
 * first `capacity` distinct values seen, then only the overflow value. Nothing is ever evicted:
 * the OTel SDK keeps every attribute set an instrument has recorded or observed for as long as
 * the process lives (counters and histograms export each for good, cumulative temporality; for
 * gauges it still remembers each, though carbonscope's readers export only the current ones),
 * so a "most recent N" window would still add one series per value ever seen. Admitting for
 * good is what keeps the series count bounded.
 */
export class BoundedLabelSet {
  readonly overflow: string;
  private readonly admitted = new Set<string>();
  private readonly pinned: ReadonlySet<string>;
  private readonly capacity: number;
  private readonly maxLength: number;
  private readonly onRefused: ((value: string, reason: RefusalReason) => void) | undefined;
  /** Whether onRefused was told of a refusal for want of room, for length. */
  private toldCapacity = false;
  private toldLength = false;

  constructor(options: BoundedLabelSetOptions) {
    for (const key of ['capacity', 'maxLength'] as const) {
      const n = options[key];
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`bounded label set: ${key} must be a positive integer, got ${n}`);
      }
    }
    this.capacity = options.capacity;
    this.maxLength = options.maxLength;
    this.overflow = options.overflow ?? OVERFLOW_LABEL;
    this.pinned = new Set(options.pinned ?? []);
    this.onRefused = options.onRefused;
  }

  /** The value as it may appear in a label: itself when admitted (or admissible), else the overflow. */
  label(value: string): string {
    if (this.pinned.has(value) || this.admitted.has(value)) return value;
    if (value.length > this.maxLength) return this.refused(value, 'length');
    if (this.admitted.size >= this.capacity) return this.refused(value, 'capacity');
    this.admitted.add(value);
    return value;
  }

  /** The overflow value; onRefused told of the first refusal of each reason (two flags read). */
  private refused(value: string, reason: RefusalReason): string {
    if (reason === 'length' ? !this.toldLength : !this.toldCapacity) {
      if (reason === 'length') this.toldLength = true;
      else this.toldCapacity = true;
      this.onRefused?.(value, reason);
    }
    return this.overflow;
  }

  /** True for a pinned or admitted value; never admits. */
  isAdmitted(value: string): boolean {
    return this.pinned.has(value) || this.admitted.has(value);
  }

  /** The admitted values (pinned ones not included), in the order they were admitted. */
  values(): IterableIterator<string> {
    return this.admitted.values();
  }

  get size(): number {
    return this.admitted.size;
  }
}
