import { prometheusBaseName } from './metrics/index.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type ResourceMetrics = import('@opentelemetry/sdk-metrics').ResourceMetrics;
type MetricData = import('@opentelemetry/sdk-metrics').MetricData;

/**
 * The collection with every metric named as Prometheus names it behind the OTel Collector
 * (`hw.host.energy` in J → `hw_host_energy_joules`; the serializer adds `_total`), for the JS
 * PrometheusSerializer, which adds no unit word. So a query reads the same name whether
 * Prometheus scrapes this process or the Collector it pushes to. New objects: the SDK's own
 * descriptors are shared with its other readers (OTLP) and stay as they are.
 */
export function withPrometheusNames(
  collected: ResourceMetrics,
  sdk: Pick<SdkMetrics, 'DataPointType'>,
): ResourceMetrics {
  return {
    ...collected,
    scopeMetrics: collected.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => renamed(metric, sdk)),
    })),
  };
}

function renamed(metric: MetricData, sdk: Pick<SdkMetrics, 'DataPointType'>): MetricData {
  const { DataPointType } = sdk;
  const type =
    metric.dataPointType === DataPointType.HISTOGRAM ||
    metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM
      ? 'histogram'
      : metric.dataPointType === DataPointType.SUM && metric.isMonotonic
        ? 'counter'
        : 'gauge';
  const { name, unit } = metric.descriptor;
  return {
    ...metric,
    descriptor: { ...metric.descriptor, name: prometheusBaseName(name, unit, type) },
  };
}
