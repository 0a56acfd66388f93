import { typeOf } from '../argument-checks.js';
import { OVERFLOW_LABEL, type RefusalReason } from './bounded-label-set.js';

/** The attributes an operation's footprint, series and span carry besides carbonscope's. */
export type OperationAttributes = Readonly<Record<string, string>>;

export interface AttributeSetsOptions {
  /** Distinct sets (keys and values together) admitted over the life of the process. */
  capacity: number;
  /** The longest value admitted, in UTF-16 units; a longer one is the overflow value. */
  maxValueLength: number;
  /** Told of the first set refused for want of room and the first value for its length. */
  onRefused?: (reason: RefusalReason) => void;
}

/** The most keys one set may have: each one more multiplies what a cap of sets must cover. */
export const MAX_ATTRIBUTE_KEYS = 4;
/** The most distinct key lists over the life of the process (keys come from code). */
export const MAX_KEY_LISTS = 16;

// A key becomes a metric label and a span attribute: letters, digits, `_` and `.`, as the
// semantic conventions write theirs, never carbonscope's own nor one Prometheus gives meaning.
const KEY = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;
const RESERVED = /^(?:carbonscope[._]|otel[._]|__)|^(?:le|job|instance)$/i;
// A key named for a secret: its values would sit in every scrape and every backend for good.
const SECRET = /authori[sz]ation|cookie|passw(?:or)?d|secret|token|api[._-]?key|credential/i;

/** A step of the sets' trie: by key, then by value, to the next; a set where one ends here. */
interface Step {
  set?: OperationAttributes;
  readonly next: Map<string, Map<string, Step>>;
}

/**
 * One frozen object per distinct set of attributes, made on first use and handed back for every
 * equal set after it: a recording finds its series by the object, hashing nothing. The first
 * `capacity` sets are admitted, then each new one is its keys with every value `other`; a value
 * longer than `maxValueLength` is `other` at once. Nothing is evicted, for the reason
 * BoundedLabelSet gives: an exported series stays for good. An admitted set is found again by
 * walking a trie of its keys and values, allocating nothing; a refused one is never stored.
 */
export class AttributeSets {
  private readonly root: Step = { next: new Map() };
  /** Per key list (its keys joined by a newline, in the order given), its overflow set. */
  private readonly keyLists = new Map<string, OperationAttributes | undefined>();
  private admitted = 0;
  private toldCapacity = false;
  private toldLength = false;

  constructor(private readonly options: AttributeSetsOptions) {
    for (const key of ['capacity', 'maxValueLength'] as const) {
      const n = options[key];
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`attribute sets: ${key} must be a positive integer, got ${n}`);
      }
    }
  }

  /**
   * The interned set for `attributes`, or undefined for an empty one (an empty value is no
   * attribute). A key that is not a name, is carbonscope's or Prometheus's, or names a secret,
   * and a value that is not a string, are a TypeError naming the key (never the value): they
   * come from code, and are its mistakes.
   */
  of(attributes: unknown, caller: string): OperationAttributes | undefined {
    if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
      throw new TypeError(
        `${caller}: the attributes must be an object (got ${typeOf(attributes)})`,
      );
    }
    const record = attributes as Record<string, unknown>;
    let step: Step | undefined = this.root;
    let count = 0;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const value = record[key];
      if (typeof value !== 'string') {
        checkKey(key, caller);
        throw new TypeError(`${caller}: attribute ${key} must be a string (got ${typeOf(value)})`);
      }
      // An empty label is no label to Prometheus: the series would be the one without it.
      if (value === '') continue;
      if (++count > MAX_ATTRIBUTE_KEYS) {
        throw new TypeError(`${caller}: at most ${MAX_ATTRIBUTE_KEYS} attributes (got more)`);
      }
      const shown = value.length > this.options.maxValueLength ? this.tooLong() : value;
      step = step?.next.get(key)?.get(shown);
    }
    if (count === 0) return undefined;
    return step?.set ?? this.added(record, caller);
  }

  /** How many sets were admitted (overflow sets not counted). */
  get size(): number {
    return this.admitted;
  }

  /** A set not found in the trie: checked, then admitted, or its key list's overflow set. */
  private added(record: Record<string, unknown>, caller: string): OperationAttributes | undefined {
    const max = this.options.maxValueLength;
    const entries: Array<[string, string]> = [];
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      checkKey(key, caller);
      const value = record[key] as string;
      if (value !== '') entries.push([key, value.length > max ? OVERFLOW_LABEL : value]);
    }
    const keys = entries.map(([key]) => key).join('\n');
    if (!this.keyLists.has(keys)) {
      // Past the key lists' bound (keys built from input), the set is left off: no labels.
      if (this.keyLists.size >= MAX_KEY_LISTS) return this.refused();
      this.keyLists.set(keys, undefined);
    }
    if (this.admitted >= this.options.capacity) {
      this.refused();
      let overflow = this.keyLists.get(keys);
      if (overflow === undefined) {
        overflow = Object.freeze(Object.fromEntries(entries.map(([key]) => [key, OVERFLOW_LABEL])));
        this.keyLists.set(keys, overflow);
      }
      return overflow;
    }
    this.admitted++;
    const set = Object.freeze(Object.fromEntries(entries));
    let step = this.root;
    for (const [key, value] of entries) {
      let byValue = step.next.get(key);
      if (byValue === undefined) {
        byValue = new Map();
        step.next.set(key, byValue);
      }
      let next = byValue.get(value);
      if (next === undefined) {
        next = { next: new Map() };
        byValue.set(value, next);
      }
      step = next;
    }
    step.set = set;
    return set;
  }

  private tooLong(): string {
    if (!this.toldLength) {
      this.toldLength = true;
      this.options.onRefused?.('length');
    }
    return OVERFLOW_LABEL;
  }

  private refused(): undefined {
    if (!this.toldCapacity) {
      this.toldCapacity = true;
      this.options.onRefused?.('capacity');
    }
    return undefined;
  }
}

function checkKey(key: string, caller: string): void {
  const fault = !KEY.test(key)
    ? 'is no attribute name (letters, digits, _ and ., up to 64)'
    : RESERVED.test(key)
      ? "is carbonscope's or Prometheus's own"
      : SECRET.test(key)
        ? 'names a secret: its values would be in every scrape and backend for good'
        : undefined;
  if (fault === undefined) return;
  const shown = KEY.test(key) ? key : JSON.stringify(key.slice(0, 64));
  throw new TypeError(`${caller}: attribute ${shown} ${fault}`);
}
