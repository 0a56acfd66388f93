import { median } from './load.js';

/**
 * A V8 `--trace-gc` line for a full (mark-compact) collection, the heap in MB after it:
 * `[pid:0x…]   23456 ms: Mark-Compact 180.2 (200.1) -> 95.3 (190.0) MB, …` (also
 * `Mark-Compact (reduce)`, the memory reducer's).
 */
const FULL_GC =
  /\s(\d+(?:\.\d+)?) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/;

/** The heap (MB) after each full collection in `--trace-gc` output, in order. */
export function heapAfterFullGcs(trace: string): number[] {
  const heaps: number[] = [];
  for (const line of trace.split('\n')) {
    const match = FULL_GC.exec(line);
    if (match) heaps.push(Number(match[2]));
  }
  return heaps;
}

/** Full collections the heap check needs in the measured window (else RSS is judged). */
export const FULL_GCS_NEEDED = 6;

/** How memory moved under the measured load, and on what it was judged. */
export interface MemoryGrowth {
  /**
   * 'heap': V8's heap after full collections, what the process keeps; 'rss': RSS, where too few
   * full collections ran (or no trace was read).
   */
  judgedOn: 'heap' | 'rss';
  /** Medians of the first and last third of the values judged (MB for the heap, MiB for RSS). */
  early: number;
  late: number;
  /** (late − early) / early. */
  growth: number;
}

/** The medians of the first and last third of `values`, and the growth between them. */
function thirds(values: readonly number[]): { early: number; late: number; growth: number } {
  const third = Math.max(1, Math.floor(values.length / 3));
  const early = median(values.slice(0, third));
  const late = median(values.slice(-third));
  return { early, late, growth: (late - early) / early };
}

/**
 * Growth under load, on the heap after full collections where there were enough of them. RSS
 * follows the collector's timing more than what the process keeps: under the soak's full mix V8
 * lets it climb 60–80 MiB for a minute or more and gives only some of it back, so two minutes of
 * RSS read a swing as growth; the heap after a full collection is what survived it.
 */
export function memoryGrowth(rss: readonly number[], heaps: readonly number[]): MemoryGrowth {
  if (heaps.length >= FULL_GCS_NEEDED) return { judgedOn: 'heap', ...thirds(heaps) };
  return { judgedOn: 'rss', ...thirds(rss) };
}
