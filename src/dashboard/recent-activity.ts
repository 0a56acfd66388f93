import type { OperationFootprint } from 'carbonscope';
import { type FootprintView, footprintView } from '../footprint.js';

export interface RecentOperation extends FootprintView {
  /** ISO time the operation ended. */
  endedAt: string;
}

/** The last `capacity` operations (predictions, chats…), newest first; older ones are dropped. */
export class RecentActivity {
  // The end time is kept as a number and formatted in list(): toISOString() per operation was
  // the largest single cost of a /predict request in test/bench (about 5 µs of ~150 µs).
  private readonly ring: Array<{ footprint: FootprintView; endedAtMs: number } | undefined>;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`recent activity capacity must be a positive integer, got ${capacity}`);
    }
    this.ring = new Array(capacity);
  }

  record(footprint: OperationFootprint): void {
    this.ring[this.next] = { footprint: footprintView(footprint), endedAtMs: this.now() };
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  list(): RecentOperation[] {
    const out: RecentOperation[] = [];
    for (let i = 1; i <= this.count; i++) {
      const item = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (item) out.push({ ...item.footprint, endedAt: new Date(item.endedAtMs).toISOString() });
    }
    return out;
  }
}
