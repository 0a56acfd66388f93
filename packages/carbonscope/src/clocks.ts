import { uptime } from 'node:os';
import { performance } from 'node:perf_hooks';
import { unfaked } from './unfaked.js';

/** Monotonic milliseconds. Injected so tests drive time by hand. */
export type Clock = () => number;

// Node's own, under a test runner's fake timers too (unfaked): carbonscope measures real time.
const hrtime = unfaked(process.hrtime, 'hrtime');
const hrtimeMs = (): number => {
  const [seconds, nanoseconds] = hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
};
// Performance's own method: install() of @sinonjs/fake-timers 15 puts a fake `now` on
// node:perf_hooks' object itself, and one installed before carbonscope loaded put the origin
// below at the fake's (its performance.now() stood at 0: the clock ran the process's age behind).
const performanceNow = Object.getPrototypeOf(performance).now as () => number;
/**
 * Where performance.now() counts from, on hrtime's scale: from the tightest of a few readings
 * between two of performance.now() (one the thread was preempted in would be off).
 */
const ORIGIN_MS = (() => {
  let best = Number.POSITIVE_INFINITY;
  let origin = 0;
  for (let i = 0; i < 5; i++) {
    const before = performanceNow.call(performance);
    const hr = hrtimeMs();
    const after = performanceNow.call(performance);
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
 * How much monotonic time passes between reads of the boot clock: Linux's os.uptime() reads
 * /proc/uptime, ~6 µs a call against ~0.3 µs for the monotonic clock, and every request reads
 * the grid's clock. So a suspend is seen within this much time awake.
 */
const BOOT_CLOCK_EVERY_MS = 1000;

/**
 * A clock for durations that go on while the machine is suspended (the grid's TTL, hold-downs,
 * rate-limit holds and budget, as the upstream's quota hour and its Retry-After do): the
 * monotonic clock stands still then, so a value fetched before a 2 h suspend was served as fresh
 * after it, for its whole TTL, and no budget came back. It is `monotonic`, plus the time the
 * boot clock ran beyond it, which only grows: never back, whatever the boot clock's steps (10 ms,
 * or whole seconds where /proc/uptime cannot be read).
 */
export function suspendAwareClock(monotonic: Clock, boot: Clock): Clock {
  let readAt = monotonic();
  let suspended = 0;
  const origin = boot() - readAt;
  return () => {
    const now = monotonic();
    if (now - readAt >= BOOT_CLOCK_EVERY_MS) {
      readAt = now;
      suspended = Math.max(suspended, boot() - now - origin);
    }
    return now + suspended;
  };
}

/**
 * The clock of the grid's durations as its options give it: `clock` (the monotonic one by
 * default) plus the time suspended where a boot clock tells it: `bootClock`, else Linux's with
 * the default clock. A scripted clock alone gets none, so a test drives it whole. The factory and
 * an IntensityService built directly get the same one (the factory hands its client this one).
 */
export function durationClock(options: { clock?: Clock; bootClock?: Clock }): Clock {
  const monotonic = options.clock ?? monotonicClock;
  const boot = options.bootClock ?? (options.clock ? undefined : bootClock);
  return boot ? suspendAwareClock(monotonic, boot) : monotonic;
}
