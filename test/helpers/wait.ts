export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls an async check every 200 ms until it holds or `timeoutMs` passes; a check that throws
 * counts as not yet. Resolves with whether it held, for a test that asserts on what it saw last.
 */
export async function poll(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(200);
  }
  return false;
}

/** Like poll, but fails after `timeoutMs` with a message naming what was awaited. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  if (!(await poll(check, timeoutMs))) {
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
  }
}
