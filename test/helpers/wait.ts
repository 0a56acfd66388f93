export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(intervalMs);
  }
  return false;
}

/** Like poll, but fails after `timeoutMs` with a message naming what was awaited. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<void> {
  if (!(await poll(check, timeoutMs, intervalMs))) {
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
  }
}
