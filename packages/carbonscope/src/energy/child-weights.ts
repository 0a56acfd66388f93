import { EARLIER_WINDOW_WEIGHT, MAX_CALIBRATED_NAMES } from './cpu-weights.js';

/** A name's operations, their children's CPU and their time, and the last window counted. */
interface Tally {
  n: number;
  childMs: number;
  wallMs: number;
  window: number;
}

/** A name's children's CPU per operation, and per ms of an operation's running (ms). */
interface Figure {
  each: number;
  density: number;
}

/**
 * Each operation name's children's CPU per operation (ms, the non-Node processes it spawned),
 * as measured of the operations begun in calibration windows: between windows no spawn is
 * followed to its operation, and an operation that ended is charged its name's figure out of
 * the children's CPU no measured operation took (see EnergyTracker.priceChildren), spread over
 * the intervals it ran in by time (as its own CPU is: a child's CPU is read while it runs, in
 * the intervals before its spawner ends), and one still running at a sample the name's density
 * × its time there.
 *
 * An operation counts once settled (its whole life, however long: a window is one sample
 * interval, shorter than a request that waits on ffmpeg), with what its children used by then.
 * Each window's operations count together; the earlier windows' at EARLIER_WINDOW_WEIGHT. A name
 * whose operations spawned nothing holds no entry; at most maxNames names (CpuWeights' bound).
 */
export class ChildWeights {
  private readonly figures = new Map<string, Figure>();
  private readonly history = new Map<string, Tally>();
  private readonly tally = new Map<string, Tally>();

  constructor(private readonly maxNames = MAX_CALIBRATED_NAMES) {}

  /** True while no operation measured spawned a child: nothing to charge between windows. */
  get empty(): boolean {
    return this.figures.size === 0;
  }

  /** A name's children's CPU per operation (ms); 0 for one whose operations spawned none. */
  of(name: string): number {
    return this.figures.get(name)?.each ?? 0;
  }

  /**
   * The children's CPU (ms) to guess for an operation of `name` that ran `ranMs` in the
   * interval: ended (`durationMs`), that part of its name's figure; running (NaN), the name's
   * density × that time.
   */
  guess(name: string, ranMs: number, durationMs: number): number {
    const figure = this.figures.get(name);
    if (!figure) return 0;
    if (Number.isNaN(durationMs)) return figure.density * ranMs;
    return durationMs > 0 ? (figure.each * ranMs) / durationMs : figure.each;
  }

  /** A settled operation begun in window `window`: its children's CPU by then, and its time. */
  observe(name: string, childMs: number, wallMs: number, window: number): void {
    if (!(childMs >= 0) || !(wallMs >= 0)) return;
    let t = this.tally.get(name);
    if (!t) {
      if (!this.history.has(name) && this.tally.size >= this.maxNames) return;
      t = { n: 0, childMs: 0, wallMs: 0, window };
      this.tally.set(name, t);
    }
    t.n++;
    t.childMs += childMs;
    t.wallMs += wallMs;
    t.window = Math.max(t.window, window);
  }

  /**
   * Takes in what was observed since the last call (at a sample): each name its operations'
   * mean with the earlier windows'; a name new to the table only where its operations spawned,
   * and while there is room.
   */
  commit(): void {
    if (this.tally.size === 0) return;
    for (const [name, t] of this.tally) {
      const earlier = this.history.get(name);
      if (!earlier && (!(t.childMs > 0) || this.history.size >= this.maxNames)) continue;
      const w = !earlier ? 0 : earlier.window === t.window ? 1 : EARLIER_WINDOW_WEIGHT;
      const merged = {
        n: t.n + w * (earlier?.n ?? 0),
        childMs: t.childMs + w * (earlier?.childMs ?? 0),
        wallMs: t.wallMs + w * (earlier?.wallMs ?? 0),
        window: t.window,
      };
      this.history.set(name, merged);
      const density = merged.wallMs > 0 ? merged.childMs / merged.wallMs : 0;
      this.figures.set(name, { each: merged.childMs / merged.n, density });
    }
    this.tally.clear();
  }
}
