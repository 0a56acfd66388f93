import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** A private meter whose instruments can be read back in Prometheus text, for unit tests. */
export interface TestMetrics {
  meter: Meter;
  /** The exposition text, as /metrics would serve it. */
  scrape(): Promise<string>;
  /** The value of one series: `value('requests_total', {endpoint: '/x'})`; undefined if absent. */
  value(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  shutdown(): Promise<void>;
}

export function createTestMetrics(): TestMetrics {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [reader] });
  const serializer = new PrometheusSerializer();
  const scrape = async () => {
    const { resourceMetrics } = await reader.collect();
    return serializer.serialize(resourceMetrics);
  };
  return {
    meter: provider.getMeter('test'),
    scrape,
    value: async (name, labels = {}) => findSample(await scrape(), name, labels),
    shutdown: () => provider.shutdown(),
  };
}

/** Parses one sample out of Prometheus text; every given label must match. */
export function findSample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = parseLabels(match[3] ?? '');
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}

export function parseLabels(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}
