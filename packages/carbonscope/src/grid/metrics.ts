import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { AttributeCache, BoundedLabelSet } from '../labels/index.js';
import { createInstrument, METRICS } from '../metrics/index.js';
import { MAX_ZONE_LENGTH } from '../zones.js';
import type { IntensityReading, IntensitySource } from './types.js';

/**
 * The zones the gauge reports: the configured zone always, plus the first `capacity` other
 * zones requested over the process's life. First come and kept: carbonscope's readers export
 * only the zones a collection observes (withCurrentGauges), but the SDK remembers every
 * attribute set a gauge ever observed (memory, and its cardinality limit of 2,000), and a
 * "most recent N" window would churn series; only a lifetime bound keeps both bounded.
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
  // The attributes of every source a zone can be answered from, made once per zone. When the
  // source changes (a recovery from the annual average), the old series ends: carbonscope's
  // readers export only what this callback observes now (withCurrentGauges). No
  // measured/estimated flag: Electricity Maps flips its own from hour to hour, which would end
  // one series and start another each time.
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
