import { closeSync, openSync, readSync } from 'node:fs';
import { type Clock, monotonicClock } from '../clocks.js';
import { CHAR_0, CHAR_9, SPACE } from '../proc/index.js';
import { eventLoopIdle } from './probes.js';

/** Cumulative milliseconds a thread slept while its event loop was busy; NaN where unread. */
export type BlockedClock = () => number;

/**
 * What the clock may read beyond a thread's real sleep over a stretch: the kernel brings a
 * running thread's time on a CPU up to date at a tick or a switch, a tick being 1-10 ms (HZ
 * 1000-100). Over stretches of ~0.1 s of timers, JS and small file writes here: p90 1 ms, p99
 * 2-9 ms, one write 111 ms (a real sleep, on the disk).
 */
export const BLOCKED_NOISE_MS = 10;

/** `<ns on a CPU> <ns waiting for one> <timeslices>`: two 20-digit numbers at most, and one. */
const SCHEDSTAT_BYTES = 64;

/**
 * A clock of the milliseconds this thread has spent asleep while its event loop was busy: its
 * time, less the loop's idle time (waiting for I/O and timers), less its time on a CPU and its
 * time waiting for one (/proc/thread-self/schedstat). A synchronous call that waits on something
 * else blocks it so: `spawnSync`, `execSync` and `execFileSync` for their child, `Atomics.wait`,
 * a read from a slow disk. Measured (this 2-core host at load 8, Node 20.20.2 and 24.22.3,
 * 2026-12-06): a `spawnSync` of 0.52-1.08 s read within 11 ms of its time; 1 s of timers and
 * JS, -26 to +3 ms (the kernel brings a running thread's figures up to date at a tick or a
 * switch). Undefined where the file does not read (no /proc, Node's permission model, a kernel
 * without scheduler statistics); NaN from a read that fails later.
 */
export function threadBlockedClock(
  clock: Clock = monotonicClock,
  loopIdle: () => number = eventLoopIdle,
): BlockedClock | undefined {
  const buf = new Uint8Array(SCHEDSTAT_BYTES);
  const read = (): number => {
    let fd: number;
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      return Number.NaN;
    }
    try {
      const length = readSync(fd, buf, 0, SCHEDSTAT_BYTES, 0);
      const end = numberEnd(buf, 0, length);
      const waitEnd = numberEnd(buf, end + 1, length);
      if (end <= 0 || waitEnd <= end + 1) return Number.NaN;
      const ns = numberAt(buf, 0, end) + numberAt(buf, end + 1, waitEnd);
      return clock() - loopIdle() - ns / 1e6;
    } catch {
      return Number.NaN;
    } finally {
      closeSync(fd);
    }
  };
  return Number.isNaN(read()) ? undefined : read;
}

/** Where the digits from `from` end (a space, or the end): `from` where there are none. */
function numberEnd(buf: Uint8Array, from: number, length: number): number {
  let i = from;
  while (i < length && buf[i] >= CHAR_0 && buf[i] <= CHAR_9) i++;
  return i < length && buf[i] !== SPACE ? from : i;
}

function numberAt(buf: Uint8Array, from: number, end: number): number {
  let n = 0;
  for (let i = from; i < end; i++) n = n * 10 + buf[i] - CHAR_0;
  return n;
}
