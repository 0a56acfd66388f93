import type { HrTime } from '@opentelemetry/api';
import type { PushMetricExporter, ResourceMetrics } from '../sdk/index.js';
import { attributesKey } from './attributes-key.js';

/** AggregationTemporality.DELTA and DataPointType.GAUGE of @opentelemetry/sdk-metrics (2.x, 3.x). */
const DELTA = 0;
const GAUGE = 2;

type Metric = ResourceMetrics['scopeMetrics'][number]['metrics'][number];

function earlier(a: HrTime, b: HrTime): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * `exporter`, each delta point it is handed starting where the last point of its series (scope,
 * metric, attributes) ended, where that is earlier. The SDK leaves a series that recorded nothing
 * out of a delta collection, and starts its next point at its first record or at the collection
 * before: the Collector's Prometheus exporter adds a delta point only where it starts at the end
 * of the series' last one, and takes any other start for a restart, replacing the count (10,
 * a quiet push, then 5 showed 5). Nothing was recorded in between, so the longer interval holds
 * the same figures. A point handed over whose push failed counts as the last: the Collector
 * missed it, and a restart is then what it should see. One entry per series pushed, as the SDK
 * keeps for cumulative ones.
 */
export function alignedDeltaStarts(exporter: PushMetricExporter): PushMetricExporter {
  const ends = new Map<string, HrTime>();
  const aligned = (scope: string, metric: Metric): Metric => {
    if (metric.aggregationTemporality !== DELTA || metric.dataPointType === GAUGE) return metric;
    const prefix = `${scope}\u0000${metric.descriptor.name}\u0000`;
    const dataPoints = metric.dataPoints.map((point) => {
      const key = prefix + attributesKey(point.attributes);
      const end = ends.get(key);
      // Never back: an older point handed over late (carried from a failed push that ended after
      // a later one got through) must not pull the next start over a point already sent.
      if (end === undefined || earlier(end, point.endTime)) ends.set(key, point.endTime);
      return end !== undefined && earlier(end, point.startTime)
        ? { ...point, startTime: end }
        : point;
    });
    return { ...metric, dataPoints } as Metric;
  };
  const alignedAll = (metrics: ResourceMetrics): ResourceMetrics => ({
    ...metrics,
    scopeMetrics: metrics.scopeMetrics.map((s) => ({
      ...s,
      metrics: s.metrics.map((m) => aligned(`${s.scope.name}@${s.scope.version ?? ''}`, m)),
    })),
  });
  return {
    export: (metrics, done) => exporter.export(alignedAll(metrics), done),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    // The reader takes the exporter's choices (OTLP's temporality preference) when it has them.
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}
