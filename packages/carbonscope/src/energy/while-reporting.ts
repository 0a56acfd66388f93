import type { TrackedOperation } from './tracked-operation.js';
import type { EnergySample } from './types.js';

/**
 * What a listener did to the tracker while it reported the ended operations: an operation it
 * ended, a sample taken in its call (cs.stop() takes its last one at once) or a stop, kept for
 * after the report: the operations pended first, then the samples in order, then the stop.
 * Settled inside the report, the sample rewrote the figures lent to the listeners after that one
 * and reported the same operations twice; the operation was reported at once, without its share
 * of the interval it ended in. The operations kept count as the tracker's pending ones, at most
 * MAX_UNSETTLED (the report's own are settled by then): beyond, one is reported at once, as any
 * is. Empty but where a listener re-enters, so it allocates nothing on a request's path.
 *
 * An operation ended after such a sample is settled by it all the same, its share of the time
 * between the two given to the others (microseconds, where cs.stop() took it; the interval's
 * energy is shared in full either way). Settling the sample at its own time needs the tracker's
 * running accounts as they were then, and the operation's end moved them on: the running list,
 * the equal-share integral, the loop's busy time (were it the last running), and the CPU clocks,
 * which the sample reads as it is settled (a copy of each per such sample). Merely pended after
 * the sample (tried), the operation got none of the sample's interval.
 */
export class WhileReporting {
  /** True while the tracker reports: what comes now waits for the report's end. */
  active = false;
  /** The tracker's stop() came in a listener's call. */
  stop = false;
  private readonly samples: EnergySample[] = [];
  private readonly ended: TrackedOperation[] = [];
  private readonly kept: boolean[] = [];

  /** Operations ended in a listener's call, waiting for the report's end. */
  get endedCount(): number {
    return this.ended.length;
  }

  /** An operation ended in a listener's call; `kept`: end()'s, its footprint wanted after. */
  addEnded(op: TrackedOperation, kept: boolean): void {
    this.ended.push(op);
    this.kept.push(kept);
  }

  /** Hands each operation ended in the report to `pend`, in the order they ended; forgets them. */
  takeEnded(pend: (op: TrackedOperation, kept: boolean) => void): void {
    const { ended, kept } = this;
    for (let i = 0; i < ended.length; i++) pend(ended[i], kept[i]);
    ended.length = 0;
    kept.length = 0;
  }

  addSample(sample: EnergySample): void {
    this.samples.push(sample);
  }

  /** The first sample that waits, taken off; undefined where none does. */
  nextSample(): EnergySample | undefined {
    return this.samples.shift();
  }
}
