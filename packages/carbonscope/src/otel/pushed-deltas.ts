import type { Attributes } from '@opentelemetry/api';
import type { PushMetricExporter, ResourceMetrics } from './optional-sdk.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');

/** One histogram series' deltas, added up over the pushes that carried them. */
export interface PushedHistogram {
  /** Per bucket, as the points' bucket counts are. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** What was pushed before, per series: a provider that takes over observes and replays the rest. */
export interface PushedBefore {
  /** The deltas of counter `name`'s series `attributes` pushed so far (0 for none). */
  sum(name: string, attributes: Attributes): number;
  histogram(name: string, attributes: Attributes): PushedHistogram | undefined;
}

/** A series' key: its metric's name and its attributes, in any order. */
function keyOf(name: string, attributes: Attributes): string {
  const entries = Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}\u0000${JSON.stringify(entries)}`;
}

/**
 * The delta points an exporter was handed, added up per series. A collector adds deltas up, so
 * a provider that takes the figures over (the application's SDK, started late) must carry on
 * from there: pushing the totals again counted what was pushed twice. Cumulative points are
 * not kept: the next provider's totals replace them.
 */
export class PushedDeltas implements PushedBefore {
  private readonly sums = new Map<string, number>();
  private readonly histograms = new Map<string, PushedHistogram>();

  constructor(private readonly sdk: Pick<SdkMetrics, 'AggregationTemporality' | 'DataPointType'>) {}

  /** `inner`, with every delta it is handed added up here first. */
  recording(inner: PushMetricExporter): PushMetricExporter {
    return {
      export: (metrics, done) => {
        this.add(metrics);
        inner.export(metrics, done);
      },
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
      selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
      selectAggregation: inner.selectAggregation?.bind(inner),
    };
  }

  sum(name: string, attributes: Attributes): number {
    return this.sums.get(keyOf(name, attributes)) ?? 0;
  }

  histogram(name: string, attributes: Attributes): PushedHistogram | undefined {
    return this.histograms.get(keyOf(name, attributes));
  }

  private add(resourceMetrics: ResourceMetrics): void {
    const { AggregationTemporality: T, DataPointType: P } = this.sdk;
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.aggregationTemporality !== T.DELTA) continue;
        const name = metric.descriptor.name;
        if (metric.dataPointType === P.SUM) {
          for (const p of metric.dataPoints) {
            const key = keyOf(name, p.attributes);
            this.sums.set(key, (this.sums.get(key) ?? 0) + p.value);
          }
        } else if (metric.dataPointType === P.HISTOGRAM) {
          for (const p of metric.dataPoints) this.addHistogram(keyOf(name, p.attributes), p.value);
        }
      }
    }
  }

  private addHistogram(
    key: string,
    value: { buckets: { counts: number[] }; sum?: number; count: number },
  ): void {
    let pushed = this.histograms.get(key);
    if (!pushed) {
      pushed = { counts: value.buckets.counts.map(() => 0), sum: 0, count: 0 };
      this.histograms.set(key, pushed);
    }
    value.buckets.counts.forEach((n, i) => {
      pushed.counts[i] = (pushed.counts[i] ?? 0) + n;
    });
    pushed.sum += value.sum ?? 0;
    pushed.count += value.count;
  }
}
