// Real time under a test runner's fake timers too: on the fake clock a reader that died was
// started again only when the test moved time.
import { monotonicClock } from '../../clocks.js';
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

/** What a reader's end means for its outage, and what to say of it. */
export interface ReaderEnd {
  /** Its first end since it last read: what it read is unread from here. */
  began: boolean;
  /**
   * What to say now, once per outage whatever the tries in it: `ended` at its start, `missing`
   * the first time the binary is gone (tried again at the longest wait only); else nothing.
   */
  say: 'ended' | 'missing' | undefined;
  /** The wait before the start it scheduled. */
  waitMs: number;
}

/**
 * A child reader's restarts (the meter's nvidia-smi, `run`'s pmon): the waits, the outage they
 * make, and what is said of it, kept in one place so that every reader says them alike.
 */
export interface RestartBackoff {
  /** A child was started now: a run as long as the longest wait is a healthy one. */
  started(): void;
  /**
   * A child ended mid-run (`missing`: its binary is gone): `start` runs after the next wait (one
   * at a time: a pending one is replaced), which doubles; after a healthy run it is the first.
   */
  ended(missing: boolean, start: () => void): ReaderEnd;
  /** A child read: whether that ends an outage (say so, once). */
  readsAgain(): boolean;
  /** Drops a pending start for good: none is run after this. */
  cancel(): void;
}

export function restartBackoff(delays: RestartDelays = RESTART_DELAYS): RestartBackoff {
  let nextMs = delays.firstMs;
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  /**
   * When the running child was started. Real time, as the waits are: on performance.now() a
   * runner's fake timers (sinon 15 fakes node:perf_hooks' own) made every run 0 ms long, and the
   * back-off never started over.
   */
  let startedMs = 0;
  let down = false;
  let saidMissing = false;
  const schedule = (start: () => void) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!cancelled) start();
    }, nextMs);
    // A dead reader keeps no process alive that has nothing else to do.
    timer.unref();
    nextMs = Math.min(delays.maxMs, nextMs * 2);
  };
  return {
    started() {
      startedMs = monotonicClock();
    },
    ended(missing, start) {
      if (monotonicClock() - startedMs >= delays.maxMs) nextMs = delays.firstMs;
      if (missing) nextMs = delays.maxMs;
      const began = !down;
      let say: ReaderEnd['say'];
      if (missing) {
        if (!saidMissing) say = 'missing';
        saidMissing = true;
      } else if (began) say = 'ended';
      down = true;
      const waitMs = nextMs;
      if (!cancelled) schedule(start);
      return { began, say, waitMs };
    },
    readsAgain() {
      if (!down) return false;
      down = false;
      saidMissing = false;
      return true;
    },
    cancel() {
      cancelled = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
