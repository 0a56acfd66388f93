import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { withCurrentGauges } from '../../src/otel/binding/current-gauges.js';
import { LocalHistograms } from '../../src/otel/binding/local-histograms.js';
import { SCOPE } from '../../src/otel/scope.js';
import { withPrometheusNames } from '../../src/prometheus-names.js';

/** A reader that collects when asked (collect()), and only then. */
export class ManualReader extends sdkMetrics.MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** One collection of a provider with one counter, of `temporality`: something to export. */
export async function oneCounterMetrics(
  temporality = sdkMetrics.AggregationTemporality.CUMULATIVE,
): Promise<sdkMetrics.ResourceMetrics> {
  const reader = new ManualReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  provider.getMeter('test').createCounter('things').add(1);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

/**
 * A collection of one delta sum point `requests` from second `start` to `end`, by hand: the
 * order and times of points handed to an exporter wrapper, where a provider would take real time.
 */
export function deltaSumBatch(start: number, end: number, value = 1): sdkMetrics.ResourceMetrics {
  const metric: sdkMetrics.SumMetricData = {
    descriptor: {
      name: 'requests',
      description: '',
      unit: '',
      valueType: 1,
      type: sdkMetrics.InstrumentType.COUNTER,
    } as sdkMetrics.MetricDescriptor,
    aggregationTemporality: sdkMetrics.AggregationTemporality.DELTA,
    dataPointType: sdkMetrics.DataPointType.SUM,
    isMonotonic: true,
    dataPoints: [{ attributes: {}, startTime: [start, 0], endTime: [end, 0], value }],
  };
  return {
    resource: {} as sdkMetrics.ResourceMetrics['resource'],
    scopeMetrics: [{ scope: { name: 'test' }, metrics: [metric] }],
  };
}

/** A private meter whose instruments can be read back in Prometheus text, for unit tests. */
export interface TestMetrics {
  meter: Meter;
  /** The exposition text, as /metrics would serve it (the OTel Collector's names). */
  scrape(): Promise<string>;
  /**
   * The value of one series: `value('hw_host_energy_joules_total', {hw_id: 'host'})`;
   * undefined if absent.
   */
  value(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  shutdown(): Promise<void>;
  /** Local histograms the reader exports, when asked for (what carbonscope's own SDK uses). */
  histograms?: LocalHistograms;
}

export function createTestMetrics(options: { local?: boolean } = {}): TestMetrics {
  const histograms = options.local ? new LocalHistograms(sdkMetrics, SCOPE) : undefined;
  // As carbonscope's readers are: a gauge serves only what its callback observes now.
  const reader = withCurrentGauges(
    sdkMetrics,
    new PrometheusExporter({
      preventServerStart: true,
      metricProducers: histograms ? [histograms] : [],
    }),
  );
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  const serializer = new PrometheusSerializer();
  const scrape = async () => {
    const { resourceMetrics } = await reader.collect();
    return serializer.serialize(withPrometheusNames(resourceMetrics, sdkMetrics));
  };
  return {
    meter: provider.getMeter('test'),
    scrape,
    value: async (name, labels = {}) => findSample(await scrape(), name, labels),
    shutdown: () => provider.shutdown(),
    histograms,
  };
}

export interface ExposedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample of a Prometheus text exposition, label values unescaped. */
export function parseSamples(text: string): ExposedSample[] {
  const samples: ExposedSample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    samples.push({
      name: match[1] ?? '',
      labels: parseLabels(match[3] ?? ''),
      value: Number(match[4]),
    });
  }
  return samples;
}

/** Parses one sample out of Prometheus text; every given label must match. */
export function findSample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return parseSamples(text).find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

const UNESCAPE: Record<string, string> = { n: '\n', '"': '"', '\\': '\\' };

export function parseLabels(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    out[m[1]] = m[2].replace(/\\(.)/g, (sequence, c: string) => UNESCAPE[c] ?? sequence);
  }
  return out;
}
