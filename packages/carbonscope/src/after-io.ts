import { clearImmediate, setImmediate } from './real-timers.js';
/**
 * Calls fn in the check phase of the loop turn it is run in, after that turn's I/O. A process
 * stopped (SIGSTOP, `docker pause`, a debugger) or with its loop blocked runs every timer that
 * expired meanwhile before it polls for I/O: a deadline's timer fired before the answer already
 * waiting in its socket was read (a spurious timeout), a sample's before nvidia-smi's lines.
 * Run again while pending, it calls fn once. The immediate is never unref'd: one that is runs only
 * once something else wakes the loop's poll (a timer a minute away), not in this turn.
 */
export function afterIo(fn: () => void): { run: () => void; cancel: () => void } {
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
