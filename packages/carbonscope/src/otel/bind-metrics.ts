import type {
  Attributes,
  Histogram,
  Meter,
  Observable,
  ObservableCallback,
  ObservableResult,
} from '@opentelemetry/api';
import type { EnergySample, OperationFootprint } from '../energy/index.js';
import { registerGridMetrics } from '../grid/index.js';
import { BoundedLabelSet } from '../labels/index.js';
import { createInstrument, METRICS, type MetricSpec } from '../metrics/index.js';
import type { Carbonscope } from '../runtime/carbonscope.js';
import type { HistogramSeries, LocalHistograms } from './local-histograms.js';
import { annotateSpan } from './spans.js';

export interface BindMetricsOptions {
  /**
   * Also record `requests_total` and `request_latency_seconds` for tracked requests. Off by
   * default: a service with the OTel HTTP instrumentation already has its own.
   */
  http?: boolean;
  /**
   * Record histograms here instead of through the SDK's: no per-request attribute hashing.
   * Given when carbonscope built the readers (its own provider, the app); a provider joined
   * through the API alone gets the API's histograms.
   */
  histograms?: LocalHistograms;
}

/**
 * Operation names beyond this many (over the process's life) share `other`, as do names longer
 * than MAX_OPERATION_LENGTH: route templates and track() names come from code, but a name built
 * from input must not grow the series without bound.
 */
export const MAX_OPERATIONS = 64;
export const MAX_OPERATION_LENGTH = 100;

/** Where one histogram's values go for one attribute set: found once, then recorded into. */
type Recorder = (value: number) => void;

/**
 * A histogram per label value (an operation, an endpoint) of a bounded set: each value's
 * recorder is made once, so recording allocates nothing and hashes nothing of ours.
 */
function histogramRecorders(
  meter: Meter,
  spec: MetricSpec & { kind: 'histogram' },
  local: LocalHistograms | undefined,
  labels: BoundedLabelSet,
  attributesOf: (label: string) => Attributes,
): (value: string) => Recorder {
  const byLabel = new Map<string, Recorder>();
  const ownHistogram = local?.histogram(spec);
  let sdkHistogram: Histogram | undefined;
  const make = (attributes: Attributes): Recorder => {
    if (ownHistogram) {
      const series: HistogramSeries = ownHistogram.open(attributes);
      return (value) => ownHistogram.record(series, value);
    }
    sdkHistogram ??= createInstrument(meter, spec);
    const histogram = sdkHistogram;
    return (value) => histogram.record(value, attributes);
  };
  return (value) => {
    const label = labels.label(value);
    let recorder = byLabel.get(label);
    if (!recorder) {
      recorder = make(attributesOf(label));
      byLabel.set(label, recorder);
    }
    return recorder;
  };
}

/**
 * Creates carbonscope's instruments on `meter` and feeds them from the samples and ended
 * operations of `cs`: energy, power and emissions are observed from the latest immutable sample
 * at collection; operation histograms are recorded as operations end (into local histograms
 * when given). Returns the function that detaches them all (used when the instrumentation is
 * given another meter provider).
 */
export function bindMetrics(
  meter: Meter,
  cs: Carbonscope,
  options: BindMetricsOptions = {},
): () => void {
  const detach: Array<() => void> = [];
  const observe = (instrument: Observable, callback: ObservableCallback) => {
    instrument.addCallback(callback);
    detach.push(() => instrument.removeCallback(callback));
  };
  const series = new Map<string, Attributes>();
  const latest = (): EnergySample | null => cs.meter.latest();

  observe(createInstrument(meter, METRICS.energy), (result) => {
    for (const f of latest()?.power ?? []) result.observe(f.joules, seriesAttributes(series, f));
  });
  observe(createInstrument(meter, METRICS.power), (result) => {
    for (const f of latest()?.power ?? []) result.observe(f.watts, seriesAttributes(series, f));
  });
  observe(createInstrument(meter, METRICS.emissions), (result: ObservableResult) => {
    for (const e of latest()?.emissions ?? []) result.observe(e.grams, zoneAttributes(series, e));
  });
  observe(createInstrument(meter, METRICS.emissionsRate), (result: ObservableResult) => {
    for (const e of latest()?.emissions ?? []) {
      result.observe(e.gramsPerSecond, zoneAttributes(series, e));
    }
  });
  if ('reportedZones' in cs.grid) {
    detach.push(registerGridMetrics(meter, cs.grid.defaultZone, cs.grid.reportedZones, cs.grid));
  }

  const local = options.histograms;
  // One set for operations and endpoints: the same names, the same bound.
  const operations = new BoundedLabelSet({
    capacity: MAX_OPERATIONS,
    maxLength: MAX_OPERATION_LENGTH,
  });
  const byOperation = (operation: string): Attributes => ({ operation });
  const energy = histogramRecorders(meter, METRICS.operationEnergy, local, operations, byOperation);
  const emissions = histogramRecorders(
    meter,
    METRICS.operationEmissions,
    local,
    operations,
    byOperation,
  );
  const recordHttp = options.http ? httpRecorder(meter, local, operations, observe) : undefined;

  detach.push(
    cs.onEnd((footprint) => {
      energy(footprint.operation)(footprint.joules);
      emissions(footprint.operation)(footprint.grams);
      annotateSpan(footprint);
      if (recordHttp && footprint.kind === 'request') recordHttp(footprint);
    }),
  );
  return () => {
    for (const off of detach.splice(0)) off();
    local?.clear();
  };
}

function seriesAttributes(
  cache: Map<string, Attributes>,
  f: { scope: string; component: string; source: string },
): Attributes {
  const key = `p|${f.scope}|${f.component}|${f.source}`;
  let attributes = cache.get(key);
  if (!attributes) {
    attributes = { scope: f.scope, component: f.component, source: f.source };
    cache.set(key, attributes);
  }
  return attributes;
}

function zoneAttributes(cache: Map<string, Attributes>, e: { scope: string; zone: string }) {
  const key = `z|${e.scope}|${e.zone}`;
  let attributes = cache.get(key);
  if (!attributes) {
    attributes = { scope: e.scope, zone: e.zone };
    cache.set(key, attributes);
  }
  return attributes;
}

/** Requests per route template and status: counted in place, observed at collection. */
interface RequestCount {
  readonly attributes: Attributes;
  count: number;
}

/**
 * `requests_total{endpoint,status}` and `request_latency_seconds{endpoint}` from request
 * footprints. The counter is a plain number per (endpoint, status) read at collection, so a
 * request costs no SDK call for it; both label sets are bounded (endpoints are the operations'
 * bounded set; a status is a number Node accepted, 100-999).
 */
function httpRecorder(
  meter: Meter,
  local: LocalHistograms | undefined,
  endpoints: BoundedLabelSet,
  observe: (instrument: Observable, callback: ObservableCallback) => void,
): (footprint: OperationFootprint) => void {
  const counts = new Map<string, Map<number, RequestCount>>();
  const requests = createInstrument(meter, METRICS.requests);
  observe(requests, (result) => {
    for (const byStatus of counts.values()) {
      for (const c of byStatus.values()) result.observe(c.count, c.attributes);
    }
  });
  const latency = histogramRecorders(
    meter,
    METRICS.requestLatency,
    local,
    endpoints,
    (endpoint) => ({
      endpoint,
    }),
  );
  return (footprint) => {
    const endpoint = endpoints.label(footprint.operation);
    let byStatus = counts.get(endpoint);
    if (!byStatus) {
      byStatus = new Map();
      counts.set(endpoint, byStatus);
    }
    const status = footprint.status ?? 0;
    let c = byStatus.get(status);
    if (!c) {
      c = { attributes: { endpoint, status: String(status) }, count: 0 };
      byStatus.set(status, c);
    }
    c.count++;
    latency(footprint.operation)(footprint.durationSeconds);
  };
}
