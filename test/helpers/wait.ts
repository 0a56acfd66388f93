export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Polled {
  held: boolean;
  /** What the last check threw, when it threw: a timeout then says why, not only how long. */
  lastError?: unknown;
}

async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs: number,
): Promise<Polled> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      if (await check()) return { held: true };
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  return { held: false, lastError };
}

/**
 * Polls an async check every `intervalMs` until it holds or `timeoutMs` passes; a check that
 * throws counts as not yet. Resolves with whether it held, for a test that asserts on what it saw
 * last. The deadline is on the monotonic clock: a step of the wall clock neither ends nor
 * stretches the wait.
 */
export async function poll(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  return (await pollUntil(check, timeoutMs, intervalMs)).held;
}

/**
 * Like poll, but fails after `timeoutMs` with a message naming what was awaited, and what the
 * last check threw if it threw (a scrape that fails each time ends in its own error).
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<void> {
  const { held, lastError } = await pollUntil(check, timeoutMs, intervalMs);
  if (held) return;
  const why =
    lastError === undefined
      ? ''
      : `; the last check threw: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
}
