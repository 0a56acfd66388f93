import type { OperationFootprint } from 'carbonscope';
import { type FootprintView, footprintView } from '../footprint.js';

export interface RecentOperation extends FootprintView {
  /** ISO time the operation ended. */
  endedAt: string;
}

/** The last `capacity` operations (predictions, chats…), newest first; older ones are dropped. */
export class RecentActivity {
  // The end time is kept as a number and formatted in list(): toISOString() per operation was
  // the largest single cost of a /predict request in test/bench (about 5 µs of ~150 µs). The
  // view is built in list() too: the meter settles a second's operations at once, and a view
  // and its SCI per operation, most overwritten before anyone looked, were what the service's
  // scavenges kept of this (~7 B a request under the soak's mix; test/bench/OVERHEAD.md).
  private readonly footprints: Array<OperationFootprint | undefined>;
  private readonly endedAtMs: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`recent activity capacity must be a positive integer, got ${capacity}`);
    }
    this.footprints = Array.from({ length: capacity }, () => undefined);
    this.endedAtMs = new Float64Array(capacity);
  }

  record(footprint: OperationFootprint): void {
    this.footprints[this.next] = footprint;
    this.endedAtMs[this.next] = this.now();
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  list(): RecentOperation[] {
    const out: RecentOperation[] = [];
    for (let i = 1; i <= this.count; i++) {
      const at = (this.next - i + this.capacity) % this.capacity;
      const footprint = this.footprints[at];
      if (!footprint) continue;
      out.push({
        ...footprintView(footprint),
        endedAt: new Date(this.endedAtMs[at]).toISOString(),
      });
    }
    return out;
  }
}
