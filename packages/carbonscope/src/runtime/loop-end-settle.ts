import { holdAtLoopEnd, loopEnding, watchLoopEnd } from '../before-exit.js';
import { type EnergyMeter, FIRST_SAMPLE_MS } from '../energy/index.js';
import { clearTimeout, setTimeout } from '../real-timers.js';

/**
 * The sample an awaited settled() waits for, taken when the event loop would otherwise run
 * empty: the meter's timer never holds the process, so a script awaiting the figure of an ended
 * operation with nothing else to do ended mid-await (code 13), or was held by a timer of its
 * own until the next regular sample, a whole interval later (10 s with a 10 s interval, where
 * register's last push at the end used to settle it in 0.4 s). The sample comes FIRST_SAMPLE_MS
 * after the last one at the soonest, as measure()'s does (a shorter interval measures little),
 * one timer holding the process until then, whatever the number of operations awaited. Nothing
 * is held where no sample is to come (a meter never started, or stopped): the script ends as it
 * would without carbonscope. Asked only once someone waits (arm()): the hook, made with it,
 * passes every end on until then, so a process where nobody awaits a figure is left as it was.
 */
export class LoopEndSettler {
  private off: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly meter: EnergyMeter,
    /** Whether someone waits on the next sample for the figure of an ended operation. */
    private readonly awaited: () => boolean,
  ) {
    // Now, not at the first await: one from a beforeExit listener must find the end under way.
    watchLoopEnd();
  }

  /** Someone now waits on the next sample: looked at when the loop runs empty. */
  arm(): void {
    this.off ??= holdAtLoopEnd(() => this.atLoopEnd());
    // Awaited from a beforeExit listener: Node looks whether the loop goes on before any other.
    if (loopEnding()) this.atLoopEnd();
  }

  /** No sample is to come (stop()): nothing to hold for. */
  disarm(): void {
    this.off?.();
    this.off = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** At the loop's end: true where the settling sample is scheduled, which holds the loop. */
  private atLoopEnd(): boolean {
    if (this.timer) return true;
    if (!this.awaited() || !this.meter.sampling) {
      this.disarm();
      return false;
    }
    this.timer = setTimeout(() => this.settle(), this.delayMs());
    return true;
  }

  /** Until the last sample is FIRST_SAMPLE_MS old; as long before the first (it comes by then). */
  private delayMs(): number {
    const last = this.meter.latest();
    if (!last) return FIRST_SAMPLE_MS;
    return Math.max(0, FIRST_SAMPLE_MS - (this.meter.options.clock() - last.nowMs));
  }

  /**
   * A regular sample that came meanwhile may have settled them: then none is taken. A sample
   * settles every ended operation; one that did not (its update failed) is not taken again at
   * each end of the loop, 10 a second for ever: the process goes as without carbonscope.
   */
  private settle(): void {
    this.timer = undefined;
    if (!this.awaited() || !this.meter.sampling) return;
    this.meter.sampleNow();
    if (this.awaited()) this.disarm();
  }
}
