import {
  type GrowthTrend,
  growthTrend,
  judgeGrowth,
  type Reading,
  type Verdict,
} from './growth-trend.js';
import { median } from './load.js';

/**
 * A V8 `--trace-gc` line for a full (mark-compact) collection, when (ms since the isolate began)
 * and the heap in MB after it:
 * `[pid:0x…]   23456 ms: Mark-Compact 180.2 (200.1) -> 95.3 (190.0) MB, …` (also
 * `Mark-Compact (reduce)`, the memory reducer's).
 */
const FULL_GC =
  /\s(\d+(?:\.\d+)?) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/;

/** The heap (MB) after each full collection in `--trace-gc` output, in order, with its time. */
export function heapAfterFullGcs(trace: string): Reading[] {
  const heaps: Reading[] = [];
  for (const line of trace.split('\n')) {
    const match = FULL_GC.exec(line);
    if (match) heaps.push({ atSeconds: Number(match[1]) / 1000, value: Number(match[2]) });
  }
  return heaps;
}

/** Full collections the heap check needs in the measured window (else RSS is judged). */
export const FULL_GCS_NEEDED = 6;

/** The bound: memory may grow less than this fraction over the measured window. */
export const GROWTH_LIMIT = 0.1;

/** How memory moved under the measured load, on what it was judged, and the verdict. */
export type MemoryGrowth =
  | {
      /** V8's heap after full collections, what the process keeps. */
      judgedOn: 'heap';
      trend: GrowthTrend;
      verdict: Verdict;
    }
  | {
      /** RSS, where too few full collections ran (or no trace was read). */
      judgedOn: 'rss';
      /** Medians of the first and last third of the RSS samples (MiB), and the growth between. */
      early: number;
      late: number;
      growth: number;
      verdict: Verdict;
    };

/** The heap's trend and verdict against the bound, once enough full collections ran. */
export function heapGrowth(heaps: readonly Reading[]): MemoryGrowth & { judgedOn: 'heap' } {
  const trend = growthTrend(heaps);
  const verdict = heaps.length < FULL_GCS_NEEDED ? 'UNRESOLVED' : judgeGrowth(trend, GROWTH_LIMIT);
  return { judgedOn: 'heap', trend, verdict };
}

/**
 * Growth under load, on the heap after full collections where there were enough of them. RSS
 * follows the collector's timing more than what the process keeps: under the soak's full mix V8
 * lets it climb 60–80 MiB for a minute or more and gives only some of it back, so two minutes of
 * RSS read a swing as growth; the heap after a full collection is what survived it. Even that
 * swings 34–46 MB from one collection to the next with what is in flight, so the heap is judged
 * on its trend's confidence interval, not on two medians of a few readings each.
 */
export function memoryGrowth(rss: readonly number[], heaps: readonly Reading[]): MemoryGrowth {
  if (heaps.length >= FULL_GCS_NEEDED) return heapGrowth(heaps);
  const third = Math.max(1, Math.floor(rss.length / 3));
  const early = median(rss.slice(0, third));
  const late = median(rss.slice(-third));
  const growth = (late - early) / early;
  return { judgedOn: 'rss', early, late, growth, verdict: growth < GROWTH_LIMIT ? 'PASS' : 'FAIL' };
}
