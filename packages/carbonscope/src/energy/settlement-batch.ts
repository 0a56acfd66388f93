import type { OperationFootprint } from './types.js';

/** Ended operations per batch (a power of two): see SettlementBatch. */
export const SETTLED_SLOTS = 64;

/**
 * The settled footprints of up to SETTLED_SLOTS consecutive ended operations of one sample
 * interval (those ended with `end()`), by their index among the interval's ended operations.
 * The tracker holds the interval's batches until the sample; after it, only those operations
 * do, each finding its own figure here for `settled()`. So an operation its caller dropped is
 * garbage at once, not carried (with its provisional footprint) to the next sample, past the
 * young generation: /predict, which ends its inference so ~10k times a second, cost 0–6.5 µs
 * more CPU per request that way (alternating rounds of the two builds). One batch for the whole
 * interval made an operation its caller kept (a job record) hold every figure of its interval:
 * 200 kept, one an interval of 5,000, held 179 MB.
 */
export class SettlementBatch {
  private settledAt = false;
  private readonly footprints: Array<OperationFootprint | undefined> = [];

  get settled(): boolean {
    return this.settledAt;
  }

  /** The settled footprint of the operation at `index`; undefined before the sample. */
  footprintOf(index: number): OperationFootprint | undefined {
    return this.settledAt ? this.footprints[index & SLOT] : undefined;
  }

  /** @internal the tracker's, at the sample, for each operation it keeps no reference to. */
  set(index: number, footprint: OperationFootprint): void {
    const slot = index & SLOT;
    while (this.footprints.length < slot) this.footprints.push(undefined);
    this.footprints[slot] = footprint;
  }

  /** @internal the tracker's, once every footprint is set. */
  close(): void {
    this.settledAt = true;
  }
}

const SLOT = SETTLED_SLOTS - 1;
