import { typeOf } from '../argument-checks.js';
import { prometheusLabelName } from '../metrics/index.js';
import { isSecretName } from '../url-credentials.js';
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
// The names the library masks elsewhere (isSecretName), and a cookie, no URL parameter's name.
const isSecretKey = (key: string) => isSecretName(key) || /cookie/i.test(key);

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
  /**
   * Each admitted key's Prometheus label name, to the key that has it: `app.tenant` and
   * `app_tenant` are one label there, so two sets would be one series twice in a scrape.
   */
  private readonly labelNames = new Map<string, string>();
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

  /**
   * A set not found in the trie: checked, then found under its keys' canonical order (given in
   * another order before), admitted, or its key list's overflow set.
   */
  private added(record: Record<string, unknown>, caller: string): OperationAttributes | undefined {
    const max = this.options.maxValueLength;
    const given: Array<[string, string]> = [];
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      checkKey(key, caller);
      const value = record[key] as string;
      if (value !== '') given.push([key, value.length > max ? OVERFLOW_LABEL : value]);
    }
    // One order for a set, whatever order its caller wrote it in: one object, one series.
    const entries = given.toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = entries.map(([key]) => key).join('\n');
    if (!this.keyLists.has(keys)) {
      // Past the key lists' bound (keys built from input), the set is left off: no labels.
      if (this.keyLists.size >= MAX_KEY_LISTS) return this.refused();
      this.checkLabelNames(entries, caller);
      this.keyLists.set(keys, undefined);
    }
    const reordered = entries.some(([key], i) => key !== given[i]?.[0]);
    const known = this.find(entries);
    if (known) {
      // Given in another order: that order finds it too from now on, allocating nothing.
      if (reordered) this.path(given, known);
      return known;
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
    const set: OperationAttributes = Object.freeze(Object.fromEntries(entries));
    this.path(entries, set);
    if (reordered) this.path(given, set);
    return set;
  }

  /** Refuses a key list two of whose keys, or one of whose and an earlier list's, share a label. */
  private checkLabelNames(entries: ReadonlyArray<[string, string]>, caller: string): void {
    const mine = new Map<string, string>();
    for (const [key] of entries) {
      const name = prometheusLabelName(key);
      const other = this.labelNames.get(name) ?? mine.get(name);
      if (other !== undefined && other !== key) {
        throw new TypeError(
          `${caller}: attribute ${key} is the Prometheus label ${name}, which ${other} has`,
        );
      }
      mine.set(name, key);
    }
    for (const [name, key] of mine) this.labelNames.set(name, key);
  }

  /** The set the trie holds for these entries, in their order, if any. */
  private find(entries: ReadonlyArray<[string, string]>): OperationAttributes | undefined {
    let step: Step | undefined = this.root;
    for (const [key, value] of entries) step = step?.next.get(key)?.get(value);
    return step?.set;
  }

  /** Puts `set` at the end of the trie's path for these entries, in their order. */
  private path(entries: ReadonlyArray<[string, string]>, set: OperationAttributes): void {
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
      : isSecretKey(key)
        ? 'names a secret: its values would be in every scrape and backend for good'
        : undefined;
  if (fault === undefined) return;
  const shown = KEY.test(key) ? key : JSON.stringify(key.slice(0, 64));
  throw new TypeError(`${caller}: attribute ${shown} ${fault}`);
}
