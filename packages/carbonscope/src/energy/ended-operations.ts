import type { TrackedOperation } from './tracked-operation.js';
import type { HttpRequestFacts, OperationContext, OperationKind } from './types.js';

const INITIAL_CAPACITY = 1024;

/**
 * The operations that ended since the last sample, waiting for it: what settling and reporting
 * them needs, copied into arrays allocated once and reused every interval (grown by doubling
 * when a busier interval needs more). The operations themselves are not kept, so the
 * garbage collector never carries a request's objects across a sample interval, except where
 * the operation is needed still: its CPU is measured (exact, a calibration window), or its
 * caller may ask for its settled figure (`end()` rather than the internal `close()`).
 */
export class EndedOperations {
  length = 0;
  readonly name: string[] = [];
  readonly kind: OperationKind[] = [];
  readonly status: Array<number | undefined> = [];
  readonly http: Array<HttpRequestFacts | undefined> = [];
  readonly context: Array<OperationContext | undefined> = [];
  /** The operation where it is still needed (see above), else undefined. */
  readonly op: Array<TrackedOperation | undefined> = [];
  startMs = new Float64Array(INITIAL_CAPACITY);
  endMs = new Float64Array(INITIAL_CAPACITY);
  shareFrom = new Float64Array(INITIAL_CAPACITY);
  shareEnd = new Float64Array(INITIAL_CAPACITY);
  /** Joules, grams and embodied grams it was given at earlier samples, then at this one. */
  joules = new Float64Array(INITIAL_CAPACITY);
  grams = new Float64Array(INITIAL_CAPACITY);
  embodied = new Float64Array(INITIAL_CAPACITY);
  /** Its share of the interval being settled. */
  weight = new Float64Array(INITIAL_CAPACITY);
  estimated = new Uint8Array(INITIAL_CAPACITY);

  /** Copies what settling `op` needs; returns its index. */
  push(op: TrackedOperation, keep: boolean): number {
    const i = this.length;
    if (i === this.startMs.length) this.grow();
    this.name[i] = op.name;
    this.kind[i] = op.kind;
    this.status[i] = op.status;
    this.http[i] = op.http;
    this.context[i] = op.context;
    this.op[i] = keep ? op : undefined;
    this.startMs[i] = op.startMs;
    this.endMs[i] = op.endMs;
    this.shareFrom[i] = op.shareFrom;
    this.shareEnd[i] = op.shareEnd;
    this.joules[i] = op.joules;
    this.grams[i] = op.grams;
    this.embodied[i] = op.embodiedGrams;
    this.weight[i] = 0;
    this.estimated[i] = op.estimated ? 1 : 0;
    this.length = i + 1;
    return i;
  }

  /** Empties it; the references it held are dropped, the arrays kept. */
  clear(): void {
    for (let i = 0; i < this.length; i++) {
      this.context[i] = undefined;
      this.op[i] = undefined;
      this.http[i] = undefined;
    }
    this.length = 0;
  }

  private grow(): void {
    const size = this.startMs.length * 2;
    const wider = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.startMs = wider(this.startMs);
    this.endMs = wider(this.endMs);
    this.shareFrom = wider(this.shareFrom);
    this.shareEnd = wider(this.shareEnd);
    this.joules = wider(this.joules);
    this.grams = wider(this.grams);
    this.embodied = wider(this.embodied);
    this.weight = wider(this.weight);
    const estimated = new Uint8Array(size);
    estimated.set(this.estimated);
    this.estimated = estimated;
  }
}
