import { DEFAULT_MAX_OPERATION_NAMES } from '../labels/index.js';
import type { OperationKind } from './types.js';

/**
 * Names beyond this many get their kind's figure: names come from code (route templates,
 * track() names), but one built from input must not grow the table without bound. As many as
 * the operation label keeps by default, so a name the metrics name is charged its own CPU.
 */
export const MAX_CALIBRATED_NAMES = DEFAULT_MAX_OPERATION_NAMES;

/** Whole operations a name needs in a window before its CPU is fitted against duration. */
export const MIN_FITTED_OPERATIONS = 4;
/** ...and how much their durations must differ (coefficient of variation) to tell a slope. */
export const MIN_DURATION_SPREAD = 0.05;
/**
 * ...and how much of their CPU's variance the line must explain (r²): a request whose CPU
 * hardly moves with its wait still shows a slope in a window's noise, and a slope charges it
 * its wait again where traffic makes every wait longer (at 32 connections here, /io's CPU in
 * one window from 0.37 to 0.47 ms while its mean duration went from 52 to 89 ms).
 */
export const MIN_EXPLAINED = 0.5;
/**
 * What a window's sums still count for at the next window, for a name both saw: one second
 * of operations measures a cheap request's CPU to ±35 % at 32 connections here, so each fit
 * also counts the windows before it, halved at each.
 */
export const EARLIER_WINDOW_WEIGHT = 0.5;
/**
 * ...but they never count for more operations than this many times the newest window's (nor
 * fewer than HISTORY_FLOOR: a window of one or two is one noisy reading). Counted by operations
 * alone, a busy past outweighed the quiet windows after it for five windows and more: ~580
 * `/io` requests a window at 32 connections, then ~19 at one connection, where each cost three
 * times the CPU, and the name still read 0.51 ms of its 0.9 four windows later. Capped at twice
 * the newest window, steady traffic halves its past as before (the past then counts for as many
 * operations as the newest window, at most) and a drop is followed within a few windows.
 */
export const HISTORY_CAP = 2;
export const HISTORY_FLOOR = 16;

interface Tally {
  busyMs: number;
  wallMs: number;
  /** Only operations seen whole (begun and ended in the window) count once there is one. */
  whole: boolean;
  /** Whole operations only: their count and the sums a least-squares line needs. */
  n: number;
  sumD: number;
  sumC: number;
  sumDD: number;
  sumDC: number;
  sumCC: number;
}

/**
 * What a window measured of a name: its density (CPU ms per ms of running), for operations
 * still running at a sample, and, when operations of it were seen whole, the CPU of a whole
 * operation as `base + slope × duration`.
 */
interface Model {
  density: number;
  base: number;
  slope: number;
  whole: boolean;
}

/**
 * Each operation name's CPU, as the latest calibration window measured it. Between windows an
 * ended operation is charged its name's CPU for an operation of its duration; one still running
 * at a sample, its name's density × the time it ran.
 *
 * Why a line and not only the density: an operation's wall time moves with what it waits for
 * (an upstream's latency, a queue behind other requests, a response's last write) while its CPU
 * mostly does not. Density × time charges a request whose upstream slowed down, or which waited
 * behind a burst, for CPU it never used. The fit says how much of a name's CPU grows with its
 * duration: about none for a request that waits (its base), about all of it for work that is
 * CPU from end to end (its slope).
 */
export class CpuWeights {
  private readonly models = new Map<string, Model>();
  /** Each name's sums over the windows so far, the earlier ones decayed. */
  private readonly history = new Map<string, Tally>();
  private readonly kindDensity = new Map<OperationKind, number>();
  private readonly tally = new Map<string, Tally>();
  private readonly kindTally = new Map<OperationKind, Tally>();

  /**
   * The last name asked about and its model: a sample weighs the operations that ended in it in
   * the order they ended, in runs of one name, two or three questions each.
   */
  private lastName: string | undefined;
  private lastModel: Model | undefined;

  constructor(private readonly maxNames = MAX_CALIBRATED_NAMES) {}

  /** The name's density; its kind's for a name no window saw; undefined before any window. */
  of(name: string, kind: OperationKind): number | undefined {
    return this.model(name)?.density ?? this.kindDensity.get(kind);
  }

  /**
   * The CPU (ms) of a whole operation of the name lasting `durationMs`; undefined when no window
   * saw one of its operations whole (then its density stands).
   */
  cpuOf(name: string, durationMs: number): number | undefined {
    const model = this.model(name);
    if (!model?.whole) return undefined;
    return model.base + model.slope * durationMs;
  }

  known(name: string): boolean {
    return this.model(name) !== undefined;
  }

  /**
   * True for a name no window has seen that one could still fit: there is room for it. Once the
   * table holds maxNames, a new name keeps its kind's figure for good (commit admits none).
   */
  learnable(name: string): boolean {
    return this.models.size < this.maxNames && !this.known(name);
  }

  /**
   * One operation of the window: its measured CPU over the time it ran in it, `whole` when it
   * also ended in it. An operation cut by the window's end is seen without its later part, so
   * one whose CPU comes first (work, then a wait) would look denser than it is: those count only
   * for a name no whole operation showed.
   */
  observe(name: string, kind: OperationKind, busyMs: number, wallMs: number, whole: boolean): void {
    if (!(wallMs > 0) || !(busyMs >= 0)) return;
    add(this.kindTally, kind, busyMs, wallMs, whole);
    if (this.tally.has(name) || this.models.has(name) || this.models.size < this.maxNames) {
      add(this.tally, name, busyMs, wallMs, whole);
    }
  }

  /** Ends a window: every name (and kind) it saw takes what was measured in it. */
  commit(): void {
    for (const [name, t] of this.tally) {
      if (this.models.has(name) || this.models.size < this.maxNames) {
        const merged = withEarlier(t, this.history.get(name));
        this.history.set(name, merged);
        this.models.set(name, modelOf(merged));
      }
    }
    for (const [kind, t] of this.kindTally) this.kindDensity.set(kind, densityOf(t));
    this.tally.clear();
    this.kindTally.clear();
    this.lastName = undefined; // its model may have changed, or been made
  }

  private model(name: string): Model | undefined {
    if (name !== this.lastName) {
      this.lastName = name;
      this.lastModel = this.models.get(name);
    }
    return this.lastModel;
  }

  /** The calibrated densities, for the snapshot and the log. */
  entries(): Array<[string, number]> {
    return [...this.models].map(([name, model]) => [name, model.density]);
  }
}

function emptyTally(whole: boolean): Tally {
  return { busyMs: 0, wallMs: 0, whole, n: 0, sumD: 0, sumC: 0, sumDD: 0, sumDC: 0, sumCC: 0 };
}

function add<K>(map: Map<K, Tally>, key: K, busyMs: number, wallMs: number, whole: boolean) {
  let t = map.get(key);
  if (!t || (whole && !t.whole)) {
    t = emptyTally(whole);
    map.set(key, t);
  } else if (!whole && t.whole) {
    return;
  }
  t.busyMs += busyMs;
  t.wallMs += wallMs;
  if (whole) {
    t.n++;
    t.sumD += wallMs;
    t.sumC += busyMs;
    t.sumDD += wallMs * wallMs;
    t.sumDC += wallMs * busyMs;
    t.sumCC += busyMs * busyMs;
  }
}

/**
 * This window's sums plus the earlier windows' at earlierWeight. Whole operations
 * outrank cut ones as within a window: a window that saw only cut ones leaves an earlier
 * whole-operation fit as it was, and one that saw whole ones replaces cut-only sums.
 */
function withEarlier(t: Tally, earlier: Tally | undefined): Tally {
  if (earlier?.whole && !t.whole) return earlier;
  if (!earlier || earlier.whole !== t.whole) return { ...t };
  const w = earlierWeight(t, earlier);
  return {
    busyMs: t.busyMs + w * earlier.busyMs,
    wallMs: t.wallMs + w * earlier.wallMs,
    whole: t.whole,
    n: t.n + w * earlier.n,
    sumD: t.sumD + w * earlier.sumD,
    sumC: t.sumC + w * earlier.sumC,
    sumDD: t.sumDD + w * earlier.sumDD,
    sumDC: t.sumDC + w * earlier.sumDC,
    sumCC: t.sumCC + w * earlier.sumCC,
  };
}

/** EARLIER_WINDOW_WEIGHT, less where the past would outnumber the newest window (HISTORY_CAP). */
function earlierWeight(t: Tally, earlier: Tally): number {
  if (!t.whole || !(earlier.n > 0)) return EARLIER_WINDOW_WEIGHT;
  const most = Math.max(HISTORY_CAP * t.n, HISTORY_FLOOR);
  return Math.min(EARLIER_WINDOW_WEIGHT, most / earlier.n);
}

function densityOf(t: Tally): number {
  // Above 1 where the CPU of other threads (a native library's pool) came with its callbacks.
  return Math.max(0, t.busyMs / t.wallMs);
}

/**
 * The least-squares line of CPU against duration over the window's whole operations, kept
 * non-negative at both ends (a negative slope means no growth: the mean; a negative base means
 * none: the density). With too few operations, or durations too alike to show a slope, each
 * is charged the mean: what varied least in the window is the best guess of what they used.
 */
function modelOf(t: Tally): Model {
  const density = densityOf(t);
  if (!t.whole || t.n === 0) return { density, base: 0, slope: density, whole: false };
  const meanD = t.sumD / t.n;
  const meanC = Math.max(0, t.sumC / t.n);
  const varD = t.sumDD / t.n - meanD * meanD;
  const spread = meanD > 0 && varD > 0 ? Math.sqrt(varD) / meanD : 0;
  if (t.n < MIN_FITTED_OPERATIONS || spread < MIN_DURATION_SPREAD) {
    return { density, base: meanC, slope: 0, whole: true };
  }
  const covDC = t.sumDC / t.n - meanD * meanC;
  const varC = t.sumCC / t.n - meanC * meanC;
  const slope = covDC / varD;
  if (!(slope > 0) || !(covDC * covDC >= MIN_EXPLAINED * varD * varC)) {
    return { density, base: meanC, slope: 0, whole: true };
  }
  const base = meanC - slope * meanD;
  if (base < 0) return { density, base: 0, slope: density, whole: true };
  return { density, base, slope, whole: true };
}
