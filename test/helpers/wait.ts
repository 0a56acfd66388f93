export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls an async check every 200 ms until it holds; a check that throws counts as not yet.
 * Fails after `timeoutMs` with a message naming what was awaited.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
