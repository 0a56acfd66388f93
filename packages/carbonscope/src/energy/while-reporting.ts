import type { EnergySample } from './types.js';

/**
 * What a listener did to the tracker while it reported the ended operations: a sample taken in
 * its call (cs.stop() takes its last one at once) or a stop, kept in order for after the report.
 * Settled inside it, the sample rewrote the figures lent to the listeners after that one and
 * reported the same operations twice. Empty but where a listener re-enters, so it allocates
 * nothing on a request's path.
 */
export class WhileReporting {
  /** True while the tracker reports: what comes now waits for the report's end. */
  active = false;
  /** The tracker's stop() came in a listener's call. */
  stop = false;
  private readonly samples: EnergySample[] = [];

  addSample(sample: EnergySample): void {
    this.samples.push(sample);
  }

  /** The first sample that waits, taken off; undefined where none does. */
  nextSample(): EnergySample | undefined {
    return this.samples.shift();
  }
}
