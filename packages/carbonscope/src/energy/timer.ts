import { afterIo } from '../after-io.js';
import { clearInterval, clearTimeout, setInterval, setTimeout } from '../real-timers.js';

/** A cancellable timer; the meter's only one. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Schedules the meter's samples. Injected so tests (and hosts with their own scheduler) drive
 * time by hand; the default never keeps the process alive.
 */
export interface Timer {
  /** Calls fn once after `ms`. */
  once(ms: number, fn: () => void): TimerHandle;
  /** Calls fn every `ms` until cancelled. */
  every(ms: number, fn: () => void): TimerHandle;
}

/** Node's timers, unref'd: a meter must never be the reason a script does not exit. */
export const unrefTimer: Timer = {
  once(ms, fn) {
    const deferred = afterIo(fn);
    const t = setTimeout(deferred.run, ms);
    t.unref();
    return {
      cancel: () => {
        clearTimeout(t);
        deferred.cancel();
      },
    };
  },
  every(ms, fn) {
    const deferred = afterIo(fn);
    const t = setInterval(deferred.run, ms);
    t.unref();
    return {
      cancel: () => {
        clearInterval(t);
        deferred.cancel();
      },
    };
  },
};
