import { clearInterval, setInterval } from './real-timers.js';

/** A ref'd timer's period that only holds the event loop open; it never fires in practice. */
const KEEP_ALIVE_MS = 2 ** 30;

/**
 * `promise`, keeping the process alive until it settles. carbonscope's timers, children and
 * pipes never hold the process on their own, so a script awaiting one of its promises with
 * nothing else to do would end with code 13 mid-await; the awaited APIs hold it through this,
 * but for settled() (and measure()'s wait), whose sample LoopEndSettler takes as the loop
 * runs empty: held through this, it came a whole sample interval later.
 */
export function heldUntilSettled<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, KEEP_ALIVE_MS);
  return promise.finally(() => clearInterval(hold));
}
