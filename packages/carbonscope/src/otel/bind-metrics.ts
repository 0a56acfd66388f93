import type {
  Attributes,
  Meter,
  Observable,
  ObservableCallback,
  ObservableResult,
} from '@opentelemetry/api';
import type { EnergySample, OperationFootprint } from '../energy/index.js';
import { registerGridMetrics } from '../grid/index.js';
import { createInstrument, METRICS } from '../metrics/index.js';
import type { Carbonscope } from '../runtime/carbonscope.js';

export interface BindMetricsOptions {
  /**
   * Also record `requests_total` and `request_latency_seconds` for tracked requests. Off by
   * default: a service with the OTel HTTP instrumentation already has its own.
   */
  http?: boolean;
}

/**
 * Operation names beyond this many share `other`: route templates and track() names come from
 * code, but a name built from input must not grow the series without bound.
 */
export const MAX_OPERATIONS = 256;
export const OTHER_OPERATION = 'other';

/** One attributes object per key, made once: recording then allocates nothing of ours. */
class AttributeCache {
  private readonly byKey = new Map<string, Attributes>();
  constructor(private readonly cap = Number.POSITIVE_INFINITY) {}
  get(key: string, make: () => Attributes, overflow?: () => Attributes): Attributes {
    let attributes = this.byKey.get(key);
    if (attributes) return attributes;
    if (this.byKey.size >= this.cap && overflow) return overflow();
    attributes = make();
    this.byKey.set(key, attributes);
    return attributes;
  }
}

/**
 * Creates carbonscope's instruments on `meter` and feeds them from the samples and ended
 * operations of `cs`: energy, power and emissions are observed from the latest immutable sample
 * at collection; operation histograms are recorded as operations end. Returns the function that
 * detaches them all (used when the instrumentation is given another meter provider).
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
  const series = new AttributeCache();
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
    detach.push(registerGridMetrics(meter, cs.grid.reportedZones, cs.grid));
  }

  const operationEnergy = createInstrument(meter, METRICS.operationEnergy);
  const operationEmissions = createInstrument(meter, METRICS.operationEmissions);
  const operations = new AttributeCache(MAX_OPERATIONS);
  const other = { operation: OTHER_OPERATION };
  const operationAttributes = (name: string) =>
    operations.get(
      name,
      () => ({ operation: name }),
      () => other,
    );
  const recordHttp = options.http ? httpRecorder(meter) : undefined;

  // Energy is recorded settled; request counts and latency as requests end.
  detach.push(
    cs.onEnd((footprint) => {
      const attributes = operationAttributes(footprint.operation);
      operationEnergy.record(footprint.joules, attributes);
      operationEmissions.record(footprint.grams, attributes);
    }),
  );
  if (recordHttp) {
    detach.push(
      cs.onFinish((footprint) => {
        if (footprint.kind === 'request') recordHttp(footprint);
      }),
    );
  }
  return () => {
    for (const off of detach.splice(0)) off();
  };
}

function seriesAttributes(
  cache: AttributeCache,
  f: { scope: string; component: string; source: string },
): Attributes {
  return cache.get(`p|${f.scope}|${f.component}|${f.source}`, () => ({
    scope: f.scope,
    component: f.component,
    source: f.source,
  }));
}

function zoneAttributes(cache: AttributeCache, e: { scope: string; zone: string }): Attributes {
  return cache.get(`z|${e.scope}|${e.zone}`, () => ({ scope: e.scope, zone: e.zone }));
}

/** `requests_total{endpoint,status}` and `request_latency_seconds{endpoint}` from request footprints. */
function httpRecorder(meter: Meter): (footprint: OperationFootprint) => void {
  const requests = createInstrument(meter, METRICS.requests);
  const latency = createInstrument(meter, METRICS.requestLatency);
  // Both label sets are bounded: route templates (capped like operations) and status codes.
  const byEndpoint = new AttributeCache(MAX_OPERATIONS);
  const byStatus = new AttributeCache(MAX_OPERATIONS * 8);
  const otherEndpoint = { endpoint: OTHER_OPERATION };
  return (footprint) => {
    const endpoint = byEndpoint.get(
      footprint.operation,
      () => ({ endpoint: footprint.operation }),
      () => otherEndpoint,
    );
    const status = String(footprint.status ?? 0);
    const labels = byStatus.get(`${endpoint.endpoint}|${status}`, () => ({ ...endpoint, status }));
    requests.add(1, labels);
    latency.record(footprint.durationSeconds, endpoint);
  };
}
