import { EARLIER_WINDOW_WEIGHT, MAX_CALIBRATED_NAMES } from './cpu-weights.js';

/** A name's operations and their children's CPU, and the last window they count from. */
interface Tally {
  n: number;
  childMs: number;
  window: number;
}

/**
 * Each operation name's children's CPU per operation (ms, the non-Node processes it spawned),
 * as measured of the operations begun in calibration windows: between windows no spawn is
 * followed to its operation, and an operation that ended is charged its name's figure out of
 * the children's CPU no measured operation took (see EnergyTracker.priceChildren).
 *
 * An operation counts once settled (its whole life, however long: a window is one sample
 * interval, shorter than a request that waits on ffmpeg), with what its children used by then.
 * Each window's operations count together; the earlier windows' at EARLIER_WINDOW_WEIGHT. A name
 * whose operations spawned nothing holds no entry; at most maxNames names (CpuWeights' bound).
 */
export class ChildWeights {
  private readonly perOperation = new Map<string, number>();
  private readonly history = new Map<string, Tally>();
  private readonly tally = new Map<string, Tally>();

  constructor(private readonly maxNames = MAX_CALIBRATED_NAMES) {}

  /** True while no operation measured spawned a child: nothing to charge between windows. */
  get empty(): boolean {
    return this.perOperation.size === 0;
  }

  /** A name's children's CPU per operation (ms); 0 for one whose operations spawned none. */
  of(name: string): number {
    return this.perOperation.get(name) ?? 0;
  }

  /** A settled operation begun in window `window`, and its children's CPU charged by then. */
  observe(name: string, childMs: number, window: number): void {
    if (!(childMs >= 0)) return;
    let t = this.tally.get(name);
    if (!t) {
      if (!this.history.has(name) && this.tally.size >= this.maxNames) return;
      t = { n: 0, childMs: 0, window };
      this.tally.set(name, t);
    }
    t.n++;
    t.childMs += childMs;
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
        window: t.window,
      };
      this.history.set(name, merged);
      this.perOperation.set(name, merged.childMs / merged.n);
    }
    this.tally.clear();
  }
}
