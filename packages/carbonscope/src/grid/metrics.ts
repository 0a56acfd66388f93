import type { Meter, ObservableResult } from '@opentelemetry/api';
import { createInstrument, METRICS } from '../metrics/index.js';
import type { IntensityReading } from './types.js';

/**
 * The zones the gauge reports: the configured zone always, plus the few most recently
 * requested ones, so a client walking through zone keys cannot grow the series without bound.
 */
export class ZoneTracker {
  private readonly recent = new Map<string, true>();

  constructor(
    readonly pinned: string,
    private readonly capacity: number,
  ) {}

  touch(zone: string): void {
    if (zone === this.pinned) return;
    if (this.recent.has(zone)) {
      this.recent.delete(zone);
    } else if (this.recent.size >= this.capacity) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    this.recent.set(zone, true);
  }

  /** The requested zones, least recent first (the pinned zone is not among them). */
  others(): IterableIterator<string> {
    return this.recent.keys();
  }
}

export interface GridReadings {
  /** May start a background refresh; used for the configured zone only. */
  peek(zone: string): IntensityReading | undefined;
  /** Never starts I/O; used for the other tracked zones so scrapes do not spend quota. */
  lastReading(zone: string): IntensityReading | undefined;
}

/**
 * Registers `grid_carbon_intensity_grams_per_kwh{zone,source}`; reads memory only. Returns the
 * function that unregisters it (a new meter provider replaces the old one).
 */
export function registerGridMetrics(
  meter: Meter,
  tracker: ZoneTracker,
  grid: GridReadings,
): () => void {
  const gauge = createInstrument(meter, METRICS.gridIntensity);
  const observe = (result: ObservableResult, reading: IntensityReading | undefined) => {
    if (reading) {
      result.observe(reading.carbonIntensity, { zone: reading.zone, source: reading.source });
    }
  };
  const callback = (result: ObservableResult) => {
    observe(result, grid.peek(tracker.pinned));
    for (const zone of tracker.others()) observe(result, grid.lastReading(zone));
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
