import { openSync, readSync } from 'node:fs';
import { CHAR_0, CHAR_9, procRefused } from '../proc/index.js';

type ThreadUsage = () => { user: number; system: number };

/**
 * A clock of the CPU milliseconds the thread that calls this first (the main thread) has used,
 * its other threads' left out: libuv's pool, a native library's threads, the GC's helpers.
 * `process.threadCpuUsage()` where Node has it (24; ~0.5 µs a read here), else on Linux the
 * thread's `/proc/thread-self/schedstat` (its run time in ns: one pread of a descriptor kept
 * open, ~1.4-2.8 µs a read here, about what `process.cpuUsage()` costs). Undefined where
 * neither can be read (macOS on Node 20, a permission model that refuses /proc): the process's
 * CPU then stands for the main thread's, as before.
 */
export function mainThreadCpuClock(): (() => number) | undefined {
  const usage = (process as { threadCpuUsage?: ThreadUsage }).threadCpuUsage;
  if (typeof usage === 'function') {
    return () => {
      const { user, system } = usage.call(process);
      return (user + system) / 1000;
    };
  }
  schedstat ??= schedstatClock() ?? null;
  return schedstat ?? undefined;
}

/** One per module instance (a worker thread loads its own): opened by the first caller. */
let schedstat: (() => number) | null | undefined;

function schedstatClock(): (() => number) | undefined {
  if (process.platform !== 'linux') return undefined;
  if (procRefused()) return undefined;
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined; // no /proc, or a kernel without schedstat
  }
  const buf = Buffer.alloc(64);
  let last = 0;
  const read = (): number => {
    let n = 0;
    try {
      n = readSync(fd, buf, 0, buf.length, 0);
    } catch {
      return last; // stands still: what it missed is the other threads' share
    }
    let ns = 0;
    for (let i = 0; i < n; i++) {
      const c = buf[i] as number;
      if (c < CHAR_0 || c > CHAR_9) break;
      ns = ns * 10 + (c - CHAR_0);
    }
    last = ns / 1e6;
    return last;
  };
  return read() > 0 ? read : undefined;
}
