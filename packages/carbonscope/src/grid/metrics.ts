import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { AttributeCache, BoundedLabelSet } from '../labels/index.js';
import { createInstrument, METRICS } from '../metrics/index.js';
import type { IntensityReading, IntensitySource } from './types.js';
import { MAX_ZONE_LENGTH } from './zones.js';

/**
 * The zones the gauge reports: the configured zone always, plus the first `capacity` other
 * zones requested over the process's life. First come and kept: the SDK keeps a gauge's series
 * for every zone it ever observed, so only a lifetime bound keeps the series bounded.
 */
export function gaugeZones(configured: string, capacity: number): BoundedLabelSet {
  return new BoundedLabelSet({ capacity, maxLength: MAX_ZONE_LENGTH, pinned: [configured] });
}

const sourced = (zone: string, source: IntensitySource): Attributes => ({
  'carbonscope.grid.zone': zone,
  'carbonscope.grid.source': source,
});

export interface GridReadings {
  /** May start a background refresh; used for the configured zone only. */
  peek(zone: string): IntensityReading | undefined;
  /** Never starts I/O; used for the other tracked zones so scrapes do not spend quota. */
  lastReading(zone: string): IntensityReading | undefined;
}

/**
 * Registers `carbonscope.grid.carbon_intensity{carbonscope.grid.zone, carbonscope.grid.source}`;
 * reads memory only. Zones beyond the set's capacity are not observed at all: a gauge's "other"
 * series would carry one random zone's value. Returns the function that unregisters it (a new
 * meter provider replaces the old one).
 */
export function registerGridMetrics(
  meter: Meter,
  configured: string,
  zones: BoundedLabelSet,
  grid: GridReadings,
): () => void {
  const gauge = createInstrument(meter, METRICS.gridIntensity);
  // The attributes of every source a zone can be answered from, made once per zone. No
  // measured/estimated flag: Electricity Maps flips its own from hour to hour, and the SDK keeps
  // every attribute set a gauge ever observed, so the old value would stay on as a second series.
  const byZone = new AttributeCache(
    [zones],
    (zone): Record<IntensitySource, Attributes> => ({
      fixed: sourced(zone, 'fixed'),
      'electricity-maps': sourced(zone, 'electricity-maps'),
      'annual-average': sourced(zone, 'annual-average'),
      'world-average': sourced(zone, 'world-average'),
    }),
  );
  const observe = (result: ObservableResult, reading: IntensityReading | undefined) => {
    if (reading && zones.isAdmitted(reading.zone)) {
      result.observe(reading.carbonIntensity, byZone.of(reading.zone)[reading.source]);
    }
  };
  const callback = (result: ObservableResult) => {
    observe(result, grid.peek(configured));
    for (const zone of zones.values()) observe(result, grid.lastReading(zone));
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
