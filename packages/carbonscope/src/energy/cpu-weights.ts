import type { OperationKind } from './types.js';

/**
 * Names beyond this many get their kind's figure: names come from code (route templates,
 * track() names), but one built from input must not grow the table without bound.
 */
export const MAX_CALIBRATED_NAMES = 256;

interface Tally {
  busyMs: number;
  wallMs: number;
  /** Only operations seen whole (begun and ended in the window) count once there is one. */
  whole: boolean;
}

/**
 * Each operation name's CPU density: milliseconds of CPU per millisecond of running, as the
 * latest calibration window measured it. Between windows an operation's CPU is estimated as its
 * name's density × the time it ran.
 */
export class CpuWeights {
  private readonly density = new Map<string, number>();
  private readonly kindDensity = new Map<OperationKind, number>();
  private readonly tally = new Map<string, Tally>();
  private readonly kindTally = new Map<OperationKind, Tally>();

  constructor(private readonly maxNames = MAX_CALIBRATED_NAMES) {}

  /** The name's density; its kind's for a name no window saw; undefined before any window. */
  of(name: string, kind: OperationKind): number | undefined {
    return this.density.get(name) ?? this.kindDensity.get(kind);
  }

  known(name: string): boolean {
    return this.density.has(name);
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
    if (this.tally.has(name) || this.density.has(name) || this.density.size < this.maxNames) {
      add(this.tally, name, busyMs, wallMs, whole);
    }
  }

  /** Ends a window: every name (and kind) it saw takes the density measured in it. */
  commit(): void {
    for (const [name, t] of this.tally) {
      if (this.density.has(name) || this.density.size < this.maxNames) {
        this.density.set(name, densityOf(t));
      }
    }
    for (const [kind, t] of this.kindTally) this.kindDensity.set(kind, densityOf(t));
    this.tally.clear();
    this.kindTally.clear();
  }

  /** The calibrated densities, for the snapshot and the log. */
  entries(): Array<[string, number]> {
    return [...this.density];
  }
}

function add<K>(map: Map<K, Tally>, key: K, busyMs: number, wallMs: number, whole: boolean) {
  const t = map.get(key);
  if (!t || (whole && !t.whole)) {
    map.set(key, { busyMs, wallMs, whole });
  } else if (whole || !t.whole) {
    t.busyMs += busyMs;
    t.wallMs += wallMs;
  }
}

function densityOf(t: Tally): number {
  // Above 1 where the CPU of other threads (a native library's pool) came with its callbacks.
  return Math.max(0, t.busyMs / t.wallMs);
}
