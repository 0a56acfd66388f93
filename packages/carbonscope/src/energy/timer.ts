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

/**
 * Calls fn in the check phase of the loop turn a timer fired in, after that turn's I/O: a timer
 * overdue after the process was stopped (SIGSTOP, `docker pause`) fires before the poll phase
 * reads what came meanwhile, and a sample taken there found nvidia-smi's lines of the stop still
 * in the pipe (a "hung driver" warning, and the stop's GPU energy left out).
 */
function afterIo(fn: () => void): { run: () => void; cancel: () => void } {
  let pending: NodeJS.Immediate | undefined;
  return {
    run: () => {
      if (pending) return;
      pending = setImmediate(() => {
        pending = undefined;
        fn();
      });
    },
    cancel: () => {
      if (pending) clearImmediate(pending);
      pending = undefined;
    },
  };
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
