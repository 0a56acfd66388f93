import type { OperationFootprint } from './types.js';

/**
 * The settled footprints of one sample interval's operations that ended with `end()`, by their
 * index among the interval's ended operations. The tracker holds it until the sample; after it,
 * only those operations do, each finding its own figure here for `settled()`. So an operation
 * its caller dropped is garbage at once, not carried (with its provisional footprint) to the
 * next sample, past the young generation: /predict, which ends its inference so ~10k times a
 * second, cost 0–6.5 µs more CPU per request that way (alternating rounds of the two builds).
 */
export class SettlementBatch {
  /** Operations ended with end() in its interval and not held by the tracker. */
  kept = 0;
  private settledAt = false;
  private readonly footprints: Array<OperationFootprint | undefined> = [];

  get settled(): boolean {
    return this.settledAt;
  }

  /** The settled footprint of the operation at `index`; undefined before the sample. */
  footprintOf(index: number): OperationFootprint | undefined {
    return this.settledAt ? this.footprints[index] : undefined;
  }

  /** @internal the tracker's, at the sample, for each operation it keeps no reference to. */
  set(index: number, footprint: OperationFootprint): void {
    while (this.footprints.length < index) this.footprints.push(undefined);
    this.footprints[index] = footprint;
  }

  /** @internal the tracker's, once every footprint is set. */
  close(): void {
    this.settledAt = true;
  }
}
