import { median } from './load.js';

/** How RSS moved under the measured load, and on what the figure was judged. */
export interface RssGrowth {
  /**
   * 'floors': the first and the last floor (rssFloors), where RSS fell twice or more; else
   * 'levels': the medians of the first and last third of the samples.
   */
  judgedOn: 'floors' | 'levels';
  early: number;
  late: number;
  /** (late − early) / early. */
  growth: number;
}

/**
 * RSS growth over samples taken at a steady pace under load. V8 lets the heap fill for a minute
 * or more under a busy mix before a major GC gives memory back, so levels compare the phases of
 * that cycle more than what the process keeps; floors compare what it keeps.
 */
export function rssGrowth(trend: readonly number[]): RssGrowth {
  const floors = rssFloors(trend);
  if (floors.length >= 2) {
    const early = floors[0];
    const late = floors[floors.length - 1];
    return { judgedOn: 'floors', early, late, growth: (late - early) / early };
  }
  const third = Math.max(1, Math.floor(trend.length / 3));
  const early = median(trend.slice(0, third));
  const late = median(trend.slice(-third));
  return { judgedOn: 'levels', early, late, growth: (late - early) / early };
}

/** A fall of this much from the peak before it is a major GC giving memory back, not jitter. */
const FALL = 0.05;

/**
 * The lowest RSS after each fall of at least 5 % from the highest since the floor before: what
 * the process holds once the collector has given memory back. A leak lifts these; a heap that
 * fills and is collected, however long its cycle, does not.
 */
export function rssFloors(trend: readonly number[]): number[] {
  const floors: number[] = [];
  let peak = Number.NEGATIVE_INFINITY;
  let floor = Number.NaN;
  for (const rss of trend) {
    if (Number.isNaN(floor)) {
      if (rss > peak) peak = rss;
      else if (rss <= peak * (1 - FALL)) floor = rss;
    } else if (rss < floor) {
      floor = rss;
    } else if (rss >= floor * (1 + FALL)) {
      floors.push(floor);
      floor = Number.NaN;
      peak = rss;
    }
  }
  if (!Number.isNaN(floor)) floors.push(floor);
  return floors;
}
