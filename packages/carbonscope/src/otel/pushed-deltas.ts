import type { Attributes } from '@opentelemetry/api';
import { attributesKey } from './attributes-key.js';
import { failureOf, type PushMetricExporter, type ResourceMetrics } from './optional-sdk.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');

/** One histogram series' deltas, added up over the pushes that carried them. */
export interface PushedHistogram {
  /** Per bucket, as the points' bucket counts are. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Called with a histogram delta taken as pushed whose push then failed. */
export type LostHistogram = (name: string, attributes: Attributes, delta: PushedHistogram) => void;

/**
 * What was pushed before, per series: a provider that takes over observes and replays the rest.
 * A push in flight counts as pushed until it fails; then what it carried is pushed no more.
 */
export interface PushedBefore {
  /** The deltas of counter `name`'s series `attributes` pushed so far (0 for none). */
  sum(name: string, attributes: Attributes): number;
  histogram(name: string, attributes: Attributes): PushedHistogram | undefined;
  /**
   * Has `lost` told of each histogram delta whose push fails from now on: a replay that took
   * it as pushed records it then. Counters need none: they read sum() at each collection.
   */
  onLost(lost: LostHistogram): void;
}

/** A series' key: its metric's name and its attributes, in any order. */
function keyOf(name: string, attributes: Attributes): string {
  return `${name}\u0000${attributesKey(attributes)}`;
}

/** What one push carried, per series: given back if it fails. */
interface Carried {
  readonly sums: Array<{ key: string; value: number }>;
  readonly histograms: Array<{
    key: string;
    name: string;
    attributes: Attributes;
    value: PushedHistogram;
  }>;
}

/**
 * The delta points an exporter was handed, added up per series. A collector adds deltas up, so
 * a provider that takes the figures over (the application's SDK, started late) must carry on
 * from there: pushing the totals again would count what was pushed twice. A push is counted when
 * it is handed over and given back if it fails: the collector never got it, and the SDK does
 * not push a delta again. Cumulative points are not kept: the next provider's totals replace
 * them. One entry per series pushed, as the SDK keeps for its own.
 */
export class PushedDeltas implements PushedBefore {
  private readonly sums = new Map<string, number>();
  private readonly histograms = new Map<string, PushedHistogram>();
  private readonly lost: LostHistogram[] = [];

  constructor(private readonly sdk: Pick<SdkMetrics, 'AggregationTemporality' | 'DataPointType'>) {}

  /** `inner`, with every delta it is handed added up here, and given back if it fails. */
  recording(inner: PushMetricExporter): PushMetricExporter {
    return {
      export: (metrics, done) => {
        const carried = this.carried(metrics);
        this.add(carried, 1);
        try {
          inner.export(metrics, (result) => {
            if (failureOf(result) !== undefined) this.giveBack(carried);
            done(result);
          });
        } catch (err) {
          this.giveBack(carried);
          throw err;
        }
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

  onLost(lost: LostHistogram): void {
    this.lost.push(lost);
  }

  /** The delta points of a push, per series. */
  private carried(resourceMetrics: ResourceMetrics): Carried {
    const { AggregationTemporality: T, DataPointType: P } = this.sdk;
    const carried: Carried = { sums: [], histograms: [] };
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.aggregationTemporality !== T.DELTA) continue;
        const name = metric.descriptor.name;
        if (metric.dataPointType === P.SUM) {
          for (const p of metric.dataPoints) {
            carried.sums.push({ key: keyOf(name, p.attributes), value: p.value });
          }
        } else if (metric.dataPointType === P.HISTOGRAM) {
          for (const { attributes, value } of metric.dataPoints) {
            const figures = {
              counts: value.buckets.counts,
              sum: value.sum ?? 0,
              count: value.count,
            };
            carried.histograms.push({
              key: keyOf(name, attributes),
              name,
              attributes,
              value: figures,
            });
          }
        }
      }
    }
    return carried;
  }

  private giveBack(carried: Carried): void {
    this.add(carried, -1);
    for (const { name, attributes, value } of carried.histograms) {
      for (const lost of this.lost) lost(name, attributes, value);
    }
  }

  /** Adds (sign 1) or takes away (-1) what a push carried. */
  private add(carried: Carried, sign: 1 | -1): void {
    for (const { key, value } of carried.sums) {
      this.sums.set(key, (this.sums.get(key) ?? 0) + sign * value);
    }
    for (const { key, value } of carried.histograms) {
      let pushed = this.histograms.get(key);
      if (!pushed) {
        pushed = { counts: value.counts.map(() => 0), sum: 0, count: 0 };
        this.histograms.set(key, pushed);
      }
      value.counts.forEach((n, i) => {
        pushed.counts[i] = (pushed.counts[i] ?? 0) + sign * n;
      });
      pushed.sum += sign * value.sum;
      pushed.count += sign * value.count;
    }
  }
}
