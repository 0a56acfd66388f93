type ThreadUsage = () => { user: number; system: number };

/**
 * A clock of the CPU milliseconds the main thread has used, its other threads' left out
 * (libuv's pool, a native library's threads, the GC's helpers): `process.threadCpuUsage()`
 * where Node has it (24; ~0.5 µs a read here). Undefined elsewhere, where the process's CPU
 * stands for the main thread's, as before. Not `/proc/thread-self/schedstat` on Node 20: the
 * kernel brings a running thread's figure there up to date only at a scheduler tick or a switch,
 * so a callback's CPU read from it was a tick's sample, not its own (a 1 ms loop read 7-9 µs,
 * then a jump of 0.5-4 ms; a single /chat operation read 0 J in a CI run).
 */
export function mainThreadCpuClock(): (() => number) | undefined {
  const usage = (process as { threadCpuUsage?: ThreadUsage }).threadCpuUsage;
  if (typeof usage !== 'function') return undefined;
  return () => {
    const { user, system } = usage.call(process);
    return (user + system) / 1000;
  };
}
