import type { Clock } from '../energy/probes.js';

/**
 * How much monotonic time passes between reads of the boot clock: Linux's os.uptime() reads
 * /proc/uptime, ~6 µs a call against ~0.3 µs for the monotonic clock, and every request reads
 * the grid's clock. So a suspend is seen within this much time awake.
 */
const BOOT_CLOCK_EVERY_MS = 1000;

/**
 * A clock for the grid's durations (TTL, hold-downs, rate-limit holds, the budget) that goes on
 * while the machine is suspended, as the upstream's quota hour and its Retry-After do: the
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
