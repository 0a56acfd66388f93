import type { EnergySample, Scope } from '../energy/index.js';
import type { PricedSource } from './report.js';

/** One source's running sums: what it priced, by scope, and that energy times its intensity. */
interface Entry {
  readonly source: string;
  readonly estimated: boolean;
  readonly stale: boolean;
  joules: Record<Scope, number>;
  /** Σ joules × gCO2e/kWh, for the intensity averaged over the energy it priced. */
  weighted: Record<Scope, number>;
  /**
   * The lowest and highest intensity it priced at. Σ J × I ÷ Σ J lies between them, but only
   * to a rounding (321.99999999999994 for a source held at 322): it is kept within them, and a
   * source held at one value says that value.
   */
  lowest: number;
  highest: number;
}

/**
 * Which grid intensity sources priced a run's energy, and how much of it each: the snapshot has
 * only the last sample's, and a run whose start an annual average priced (Electricity Maps
 * down) would be told as live all through. Fed one sample per interval; a source is told apart
 * by whether it was estimated or stale too, as the summary's flags say it.
 */
export class IntensityMix {
  private readonly entries: Entry[] = [];

  /** Adds a sample's interval: its energy went at its intensity (none: unpriced, not here). */
  add(sample: EnergySample): void {
    const reading = sample.intensity;
    if (reading === null) return;
    const entry = this.entryOf(reading.source, reading.isEstimated, reading.stale);
    entry.lowest = Math.min(entry.lowest, reading.carbonIntensity);
    entry.highest = Math.max(entry.highest, reading.carbonIntensity);
    entry.joules.host += sample.hostJoules;
    entry.joules.process += sample.processJoules;
    entry.weighted.host += sample.hostJoules * reading.carbonIntensity;
    entry.weighted.process += sample.processJoules * reading.carbonIntensity;
  }

  /**
   * The sources that priced `scope`'s energy, most energy first, with their shares of it; none
   * where no energy of it was priced (no share of nothing).
   */
  of(scope: Scope): PricedSource[] {
    const total = this.entries.reduce((sum, e) => sum + e.joules[scope], 0);
    if (!(total > 0)) return [];
    return this.entries
      .filter((e) => e.joules[scope] > 0)
      .map((e) => ({
        source: e.source,
        estimated: e.estimated,
        stale: e.stale,
        joules: e.joules[scope],
        share: e.joules[scope] / total,
        carbonIntensity: Math.min(
          e.highest,
          Math.max(e.lowest, e.weighted[scope] / e.joules[scope]),
        ),
      }))
      .sort((a, b) => b.joules - a.joules);
  }

  /** A handful of entries at most: a search, and no key built per sample. */
  private entryOf(source: string, estimated: boolean, stale: boolean): Entry {
    for (const e of this.entries) {
      if (e.source === source && e.estimated === estimated && e.stale === stale) return e;
    }
    const entry: Entry = {
      source,
      estimated,
      stale,
      joules: { host: 0, process: 0 },
      weighted: { host: 0, process: 0 },
      lowest: Number.POSITIVE_INFINITY,
      highest: Number.NEGATIVE_INFINITY,
    };
    this.entries.push(entry);
    return entry;
  }
}
