import { clearTimeout, setTimeout } from '../real-timers.js';

/** A started tick, to cancel. */
export type TickHandle = unknown;

/** Schedules SpanRelease's ticks: Node's timers, or a test's scripted ones. */
export interface TickTimer {
  /** Calls `fn` once, `ms` from now; never keeps the process alive. */
  start(fn: () => void, ms: number): TickHandle;
  stop(handle: TickHandle): void;
}

/** Node's own timers (never a test runner's fakes: see real-timers), unref'd. */
export const REAL_TICKS: TickTimer = {
  start: (fn, ms) => setTimeout(fn, ms).unref(),
  stop: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
