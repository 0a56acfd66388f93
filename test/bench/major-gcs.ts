import { constants, PerformanceObserver } from 'node:perf_hooks';

/**
 * Counts the process's major (mark-compact) collections from here on. In the attribution
 * server each one deoptimized some 80 functions on the HTTP path at once (V8's "weak objects":
 * objects the optimized code had embedded were freed): an /io request cost up to 2.6 times its
 * CPU in the 5 s slice it fell in, and 1.2–1.5 times for 20 s and more after, at the bench's
 * rates, until the code was optimized again. The bench starts the server with room enough for
 * none to happen (STEADY_V8_ARGS) and says how many fell in each measurement all the same.
 * Entries arrive after the collection, on a later turn of the loop.
 */
export function majorGcCounter(): { count(): number; stop(): void } {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { count: () => count, stop: () => observer.disconnect() };
}
