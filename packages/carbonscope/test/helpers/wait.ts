import { inspect } from 'node:util';

export interface WaitOptions<T> {
  /** How long to wait, on the monotonic clock (a step of the wall clock neither ends nor stretches it). */
  timeoutMs?: number;
  intervalMs?: number;
  /** Whether a value the check returned is the one awaited; any truthy value by default. */
  until?: (value: T) => boolean;
}

/** A value as a failure message shows it: on one line, cut where it would drown the message. */
function shown(value: unknown): string {
  const text = inspect(value, { depth: 3, breakLength: Number.POSITIVE_INFINITY });
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/**
 * Polls `check` until what it returns is the value awaited, and resolves with that value; a check
 * that throws counts as not yet. Past the deadline it throws naming `what` was awaited and what
 * the check last returned (or last threw), so a test that fails there says why, not only that a
 * later assertion saw too little. `options` as a number is the timeout.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: WaitOptions<T> | number = {},
): Promise<T> {
  const {
    timeoutMs = 5000,
    intervalMs = 20,
    until = Boolean,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = performance.now() + timeoutMs;
  let last: { value: T } | { error: unknown } = { value: undefined as T };
  for (;;) {
    try {
      const value = await check();
      if (until(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (performance.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const seen =
    'error' in last
      ? `the last check threw: ${last.error instanceof Error ? last.error.message : shown(last.error)}`
      : `the last check returned ${shown(last.value)}`;
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; ${seen}`);
}
