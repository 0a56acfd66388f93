import type { ActiveOperation, OperationFootprint, OperationTracker } from 'carbonscope';
import { trackWith } from 'carbonscope';

/** The name trackRequests begins every request with (renamed to its route when it ends). */
export { REQUEST_OPERATION } from '../http/track-requests.js';

/** Called once per ended operation with the name it began under and its footprint. */
export type OperationListener = (begunAs: string, footprint: OperationFootprint) => void;

/**
 * Wraps a tracker so every ended operation is also reported to `listener`, without changing the
 * meter: routes and middleware given the wrapped tracker are metered exactly as before.
 */
export function observeTracker(
  inner: OperationTracker,
  listener: OperationListener,
): OperationTracker {
  const begin = (operation: string): ActiveOperation => {
    const op = inner.begin(operation);
    let reported = false;
    return {
      end(name?: string): OperationFootprint {
        const footprint = op.end(name);
        if (!reported) {
          reported = true;
          listener(operation, footprint);
        }
        return footprint;
      },
    };
  };
  return {
    begin,
    track<T>(operation: string, fn: () => T): T {
      return trackWith({ begin }, operation, fn);
    },
  };
}

export interface RecentOperation extends OperationFootprint {
  /** ISO time the operation ended. */
  endedAt: string;
}

/** The last `capacity` operations (predictions, chats…), newest first; older ones are dropped. */
export class RecentActivity {
  // The end time is kept as a number and formatted in list(): toISOString() per operation was
  // the largest single cost of a /predict request in test/bench (about 5 µs of ~150 µs).
  private readonly ring: Array<{ footprint: OperationFootprint; endedAtMs: number } | undefined>;
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
    this.ring[this.next] = { footprint, endedAtMs: this.now() };
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
