/**
 * When the default method's calibration windows were open, as the attribution server sees it
 * from its requests: each request's start reads `tracker.measuringCpu`, and a change from one
 * start to the next is a window opening or closing. A request seen whole in one window was
 * charged what the window measured; one that began and ended between windows, what the
 * calibration estimated. Comparing the two in one server, under one mix, measures the estimate
 * without the check's reference (each route alone, on another load and at another time).
 *
 * A change is seen at the first start after it, so a request that ended within that gap of a
 * window's edge can be put on the wrong side: a few requests a window at the mix's rates.
 */
export type WindowSide = 'measured' | 'estimated' | 'mixed';

/** What the server adds up on each side, per phase and route; the bench reads it back. */
export type SideTotals = Record<WindowSide, { count: number; joules: number }>;

export const emptySides = (): SideTotals => ({
  measured: { count: 0, joules: 0 },
  estimated: { count: 0, joules: 0 },
  mixed: { count: 0, joules: 0 },
});

/** No window: what `observe` returns between windows. */
export const BETWEEN = 0;

export class WindowTimeline {
  /** Each change, in time order: when it was seen and the window then open (or BETWEEN). */
  private readonly changes: Array<{ atMs: number; window: number }> = [];
  private windows = 0;
  private open = false;

  /** A request starts at `nowMs`, a window measuring or not: the window it starts in. */
  observe(nowMs: number, measuring: boolean): number {
    if (measuring !== this.open) {
      this.open = measuring;
      if (measuring) this.windows++;
      this.changes.push({ atMs: nowMs, window: measuring ? this.windows : BETWEEN });
    }
    return measuring ? this.windows : BETWEEN;
  }

  /** Which side a request that started in `startWindow` and ran from startMs to endMs is on. */
  sideOf(startWindow: number, startMs: number, endMs: number): WindowSide {
    const last = this.changes.findLast((c) => c.atMs <= endMs);
    const endWindow = last?.window ?? BETWEEN;
    if (endWindow !== startWindow) return 'mixed';
    if (startWindow !== BETWEEN) return 'measured'; // a window's number is never reused
    // Between windows at both ends, with none opened and closed while it ran.
    return last && last.atMs > startMs ? 'mixed' : 'estimated';
  }
}
