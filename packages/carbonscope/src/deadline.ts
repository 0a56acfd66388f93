import { afterIo } from './after-io.js';
import { clearTimeout, setTimeout } from './real-timers.js';

/**
 * setTimeout's longest wait (2^31 - 1 ms, about 24.8 days): past it Node warns and waits 1 ms,
 * so a deadline of a month, or Infinity for none, expired at once.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms` (Infinity: never), in waits setTimeout takes; returns what cancels it.
 * A negative or NaN `ms` is at once: passed on as 0, since Node 23 and later print a warning
 * (TimeoutNegativeWarning, TimeoutNaNWarning) on the application's stderr for either. `fn` runs
 * after the I/O of the loop turn its timer fired in (afterIo): a deadline that expired while the
 * process was stopped or its loop blocked takes an answer that came meanwhile, not a timeout.
 */
export function atDeadline(ms: number, fn: () => void, unref = false): () => void {
  let timer: NodeJS.Timeout | undefined;
  const late = afterIo(fn);
  const arm = (left: number) => {
    if (left === Number.POSITIVE_INFINITY) return;
    timer =
      left > MAX_TIMER_MS
        ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS)
        : setTimeout(late.run, left);
    if (unref) timer.unref();
  };
  // Math.max alone keeps NaN.
  arm(Number.isNaN(ms) ? 0 : Math.max(ms, 0));
  return () => {
    clearTimeout(timer);
    late.cancel();
  };
}

/** A signal that aborts at a deadline, and what ends its timer once the work it bounds settled. */
export interface DeadlineSignal {
  readonly signal: AbortSignal;
  clear(): void;
}

/**
 * AbortSignal.timeout(ms), aborting with the same TimeoutError, but after the I/O of the loop
 * turn its timer fired in (atDeadline): a fetch whose answer came while the process was stopped
 * longer than its deadline is read, not aborted. Its timer does not keep the process alive, and
 * `clear()` ends it: kept until it expired, each fetch left a timer, its controller and signal
 * (1,000 fetches of a 10 s timeout in 10 s, 1,000 of them).
 */
export function deadlineSignal(ms: number): DeadlineSignal {
  const controller = new AbortController();
  const clear = atDeadline(
    ms,
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    true,
  );
  return { signal: controller.signal, clear };
}

/** Work that did not finish within its deadline. */
export class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`did not finish within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Runs `work` with a signal that aborts after `ms`, and rejects with DeadlineError at `ms` even
 * when the work ignores its signal (a library that sleeps before a retry): the caller's wait is
 * bounded whatever the work does. `cancel`, the caller's own signal (its client went away),
 * aborts the work the same way, and the call rejects with its reason at once (already aborted,
 * the work is not started). A late rejection of the work is expected and swallowed.
 */
export function withDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  cancel?: AbortSignal,
): Promise<T> {
  if (cancel?.aborted) return Promise.reject(cancel.reason);
  const controller = new AbortController();
  let cancelTimer = () => {};
  let unlisten = () => {};
  const expired = new Promise<never>((_resolve, reject) => {
    const stop = (reason: unknown) => {
      controller.abort(reason);
      reject(reason);
    };
    cancelTimer = atDeadline(ms, () => stop(new DeadlineError(ms)));
    if (!cancel) return;
    const cancelled = () => stop(cancel.reason);
    cancel.addEventListener('abort', cancelled, { once: true });
    unlisten = () => cancel.removeEventListener('abort', cancelled);
  });
  const running = work(controller.signal);
  running.catch(() => undefined);
  return Promise.race([running, expired]).finally(() => {
    cancelTimer();
    unlisten();
  });
}

/**
 * Waits for `promise` at most `ms`: true when it settled in time (resolved or rejected), false
 * when the time ran out first. Never rejects; the timer does not keep the process alive.
 */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let cancelTimer = () => {};
  const late = new Promise<false>((resolve) => {
    cancelTimer = atDeadline(ms, () => resolve(false), true);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  return Promise.race([settled, late]).finally(() => cancelTimer());
}
