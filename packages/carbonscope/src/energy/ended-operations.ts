import type { TrackedOperation } from './tracked-operation.js';
import type {
  HttpRequestFacts,
  OperationAttributes,
  OperationContext,
  OperationKind,
} from './types.js';

const INITIAL_CAPACITY = 1024;

/** In an operation's slot: ended with end(), its footprint wanted after the sample, not held. */
const KEPT = Symbol('kept');

// An operation's numbers side by side, and its references side by side: a push writes one or
// two cache lines of each instead of one line in each of fifteen arrays (in a server, whose
// other work evicts them between requests, the fifteen lines cost ~0.5 µs per request).
const START = 0;
const END = 1;
const SHARE_FROM = 2;
const SHARE_END = 3;
const JOULES = 4;
const GRAMS = 5;
const EMBODIED = 6;
const WEIGHT = 7;
const ESTIMATED = 8;
const NUMBERS = 9;

const NAME = 0;
const KIND = 1;
const STATUS = 2;
const HTTP = 3;
const CONTEXT = 4;
const OP = 5;
const ATTRIBUTES = 6;
const REFERENCES = 7;

/**
 * The operations that ended since the last sample, waiting for it: what settling and reporting
 * them needs, copied into arrays allocated once and reused every interval (grown by doubling
 * when a busier interval needs more). The operations themselves are not kept, so the
 * garbage collector never carries a request's objects across a sample interval, except where
 * the operation is needed still: its CPU is measured (exact, a calibration window), or its
 * caller waits for its settled figure. One ended with `end()` is marked for its figure, which
 * a SettlementBatch keeps for it.
 */
export class EndedOperations {
  length = 0;
  private numbers = new Float64Array(INITIAL_CAPACITY * NUMBERS);
  private readonly references: unknown[] = extended([], INITIAL_CAPACITY * REFERENCES);

  /**
   * Copies what settling `op` needs; returns its index. `hold`: the operation itself is kept
   * (its CPU is read still, or someone waits for its settled figure); `kept`: its settled
   * figure is wanted for a SettlementBatch, but the operation is not held.
   */
  push(op: TrackedOperation, hold: boolean, kept: boolean): number {
    const i = this.length;
    if ((i + 1) * NUMBERS > this.numbers.length) this.grow();
    const n = this.numbers;
    const at = i * NUMBERS;
    n[at + START] = op.startMs;
    n[at + END] = op.endMs;
    n[at + SHARE_FROM] = op.shareFrom;
    n[at + SHARE_END] = op.shareEnd;
    const accrued = op.accrued;
    n[at + JOULES] = accrued ? accrued.joules : 0;
    n[at + GRAMS] = accrued ? accrued.grams : 0;
    n[at + EMBODIED] = accrued ? accrued.embodiedGrams : 0;
    n[at + WEIGHT] = 0;
    n[at + ESTIMATED] = accrued?.estimated ? 1 : 0;
    const r = this.references;
    const ref = i * REFERENCES;
    r[ref + NAME] = op.name;
    r[ref + KIND] = op.kind;
    r[ref + STATUS] = op.status;
    r[ref + HTTP] = op.http;
    r[ref + CONTEXT] = op.context;
    r[ref + OP] = hold ? op : kept ? KEPT : undefined;
    r[ref + ATTRIBUTES] = op.attributes;
    this.length = i + 1;
    return i;
  }

  name(i: number): string {
    return this.references[i * REFERENCES + NAME] as string;
  }

  kind(i: number): OperationKind {
    return this.references[i * REFERENCES + KIND] as OperationKind;
  }

  status(i: number): number | undefined {
    return this.references[i * REFERENCES + STATUS] as number | undefined;
  }

  http(i: number): HttpRequestFacts | undefined {
    return this.references[i * REFERENCES + HTTP] as HttpRequestFacts | undefined;
  }

  attributes(i: number): OperationAttributes | undefined {
    return this.references[i * REFERENCES + ATTRIBUTES] as OperationAttributes | undefined;
  }

  context(i: number): OperationContext | undefined {
    return this.references[i * REFERENCES + CONTEXT] as OperationContext | undefined;
  }

  /** The operation where it is held (see push), else undefined. */
  op(i: number): TrackedOperation | undefined {
    const op = this.references[i * REFERENCES + OP];
    return op === KEPT ? undefined : (op as TrackedOperation | undefined);
  }

  /** True where its settled figure is wanted without the operation held (see push). */
  kept(i: number): boolean {
    return this.references[i * REFERENCES + OP] === KEPT;
  }

  /** Holds the operation at `i` from now on: someone waits for its settled figure. */
  hold(i: number, op: TrackedOperation): void {
    this.references[i * REFERENCES + OP] = op;
  }

  startMs(i: number): number {
    return this.numbers[i * NUMBERS + START];
  }

  endMs(i: number): number {
    return this.numbers[i * NUMBERS + END];
  }

  /** Its equal share of the time it ran (the tracker's integral from its start to its end). */
  share(i: number): number {
    const at = i * NUMBERS;
    return this.numbers[at + SHARE_END] - this.numbers[at + SHARE_FROM];
  }

  /** Joules, grams and embodied grams it was given at earlier samples, then at this one. */
  joules(i: number): number {
    return this.numbers[i * NUMBERS + JOULES];
  }

  grams(i: number): number {
    return this.numbers[i * NUMBERS + GRAMS];
  }

  embodied(i: number): number {
    return this.numbers[i * NUMBERS + EMBODIED];
  }

  estimated(i: number): boolean {
    return this.numbers[i * NUMBERS + ESTIMATED] === 1;
  }

  /** Its share of the interval being settled. */
  weight(i: number): number {
    return this.numbers[i * NUMBERS + WEIGHT];
  }

  setWeight(i: number, weight: number): void {
    this.numbers[i * NUMBERS + WEIGHT] = weight;
  }

  /** Adds this sample's part: its energy, emissions and embodied emissions. */
  settle(i: number, joules: number, grams: number, embodied: number, estimated: boolean): void {
    const n = this.numbers;
    const at = i * NUMBERS;
    n[at + JOULES] += joules;
    n[at + GRAMS] += grams;
    n[at + EMBODIED] += embodied;
    if (estimated) n[at + ESTIMATED] = 1;
  }

  /** Empties it; the references it held are dropped, the arrays kept. */
  clear(): void {
    this.references.fill(undefined, 0, this.length * REFERENCES);
    this.length = 0;
  }

  private grow(): void {
    const numbers = new Float64Array(this.numbers.length * 2);
    numbers.set(this.numbers);
    this.numbers = numbers;
    extended(this.references, this.references.length);
  }
}

/**
 * `array` with `count` more undefined slots, pushed one by one: an array made with
 * `new Array(n)` or grown by setting its length has holes to V8 for good (HOLEY elements,
 * a hole check on every read), even once filled.
 */
function extended(array: unknown[], count: number): unknown[] {
  for (let i = 0; i < count; i++) array.push(undefined);
  return array;
}
