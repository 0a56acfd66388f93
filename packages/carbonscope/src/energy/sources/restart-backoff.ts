// Real time under a test runner's fake timers too: on the fake clock a reader that died was
// started again only when the test moved time.
import { clearTimeout, setTimeout } from '../../real-timers.js';

/** How long a reader that died waits to be started again: doubling from the first to the most. */
export interface RestartDelays {
  firstMs: number;
  maxMs: number;
}

/**
 * One reader died at 1 s into its run or one reader's binary is gone: 1 s, then doubling up to a
 * minute, so a reader that cannot run costs one start a minute, not a start a second.
 */
export const RESTART_DELAYS: RestartDelays = { firstMs: 1000, maxMs: 60_000 };

export interface RestartBackoff {
  /** The wait the next schedule() takes. */
  readonly nextMs: number;
  /** Runs `start` after the next wait (one at a time: a pending one is replaced); it doubles. */
  schedule(start: () => void): void;
  /** The next wait is the longest: a binary that is gone comes back, if ever, in its own time. */
  toMax(): void;
  /** A healthy run: the next wait is the first again. */
  reset(): void;
  /** Drops a pending start for good: none is run after this. */
  cancel(): void;
}

export function restartBackoff(delays: RestartDelays = RESTART_DELAYS): RestartBackoff {
  let nextMs = delays.firstMs;
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  return {
    get nextMs() {
      return nextMs;
    },
    schedule(start) {
      if (cancelled) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        if (!cancelled) start();
      }, nextMs);
      // A dead reader keeps no process alive that has nothing else to do.
      timer.unref();
      nextMs = Math.min(delays.maxMs, nextMs * 2);
    },
    toMax() {
      nextMs = delays.maxMs;
    },
    reset() {
      nextMs = delays.firstMs;
    },
    cancel() {
      cancelled = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
