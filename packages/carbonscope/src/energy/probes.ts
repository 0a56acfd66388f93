import { uptime } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HostCpuDelta } from './sources/index.js';

/** Monotonic milliseconds. Injected so tests drive time by hand. */
export type Clock = () => number;

/**
 * Cumulative CPU seconds (user + system) of whatever the meter attributes energy to. The service
 * measures itself; the CLI passes a reader that sums a child process tree. A reader may go down
 * (a child exits and its time leaves the sum): the meter treats a decrease as no time spent.
 */
export type ProcessCpuReader = () => number;

/** Host CPU time since the previous call (the first call sets the baseline). */
export type HostCpuReader = () => HostCpuDelta;

const hrtime = process.hrtime;
const hrtimeMs = (): number => {
  const [seconds, nanoseconds] = hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
};
/**
 * Where performance.now() counts from, on hrtime's scale: from the tightest of a few readings
 * between two of performance.now() (one the thread was preempted in would be off).
 */
const ORIGIN_MS = (() => {
  let best = Number.POSITIVE_INFINITY;
  let origin = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const hr = hrtimeMs();
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      origin = hr - (before + after) / 2;
    }
  }
  return origin;
})();

/**
 * performance.now() on the same clock (libuv's monotonic hrtime), read through process.hrtime:
 * every request reads it twice, and in a loaded server perf put a read of performance.now() at
 * ~1 µs, most of it its brand check (a hasOwnProperty of the receiver) and the lookups around
 * it; in alternating A/B runs this took carbonscope's share of a /healthz request's CPU from
 * 3.54 % to 3.07 % (means of three runs each). `hrtime` is held here because the global
 * `process` is an accessor, a call each time it is named.
 */
export const monotonicClock: Clock = () => hrtimeMs() - ORIGIN_MS;

/**
 * Milliseconds since boot, suspended time included: on Linux os.uptime() reads /proc/uptime
 * (CLOCK_BOOTTIME, 10 ms steps; whole seconds where it cannot be read), which goes on while the
 * monotonic clock stands still in a suspend. Elsewhere none: macOS's figure is whole seconds of
 * the wall clock less the boot time.
 */
export const bootClock: Clock | undefined =
  process.platform === 'linux' ? () => uptime() * 1000 : undefined;

/**
 * Milliseconds the event loop has waited for I/O (idle) since it started: monotonicClock less
 * this grows only while the loop is busy. Node keeps the figure for eventLoopUtilization().
 */
export const eventLoopIdle = (): number => performance.nodeTiming.idleTime;

/** This process's CPU milliseconds (all threads), for the tracker's per-operation CPU. */
export const ownProcessCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** This process's own CPU time: all threads, libuv pool and onnxruntime's threads included. */
export const ownProcessCpu: ProcessCpuReader = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
