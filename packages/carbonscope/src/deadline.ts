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
  let timer: NodeJS.Timeout | undefined;
  let unlisten = () => {};
  const expired = new Promise<never>((_resolve, reject) => {
    const stop = (reason: unknown) => {
      controller.abort(reason);
      reject(reason);
    };
    timer = setTimeout(() => stop(new DeadlineError(ms)), ms);
    if (!cancel) return;
    const cancelled = () => stop(cancel.reason);
    cancel.addEventListener('abort', cancelled, { once: true });
    unlisten = () => cancel.removeEventListener('abort', cancelled);
  });
  const running = work(controller.signal);
  running.catch(() => undefined);
  return Promise.race([running, expired]).finally(() => {
    clearTimeout(timer);
    unlisten();
  });
}

/**
 * Waits for `promise` at most `ms`: true when it settled in time (resolved or rejected), false
 * when the time ran out first. Never rejects; the timer does not keep the process alive.
 */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}
