import type { Attributes } from '@opentelemetry/api';
import type { LostHistogram, PushedBefore, PushedHistogram } from './binding/index.js';
import { attributesKey } from './binding/index.js';
import { PushedTotals } from './pushed-totals.js';
import { failureOf, type PushMetricExporter, type ResourceMetrics } from './sdk/index.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');

/** A series' key: its metric's name and its attributes, in any order. */
function keyOf(name: string, attributes: Attributes): string {
  return `${name}\u0000${attributesKey(attributes)}`;
}

/** One histogram point a push carried. */
interface CarriedHistogram {
  key: string;
  name: string;
  attributes: Attributes;
  value: PushedHistogram;
}

/** What one push carried, per series: given back if it fails. */
interface Carried {
  readonly sums: Array<{ key: string; value: number }>;
  readonly histograms: CarriedHistogram[];
}

/**
 * The delta points an exporter was handed, added up per series. A collector adds deltas up, so
 * a provider that takes the figures over (the application's SDK, started late) must carry on
 * from there: pushing the totals again would count what was pushed twice. A push is counted when
 * it is handed over and given back if it fails: the collector never got it, and the SDK does
 * not push a delta again. Cumulative points are kept too, as the totals the collector holds
 * (PushedTotals): a provider that takes over starts streams of its own (a new start time, under
 * any resource), and carries on from those. One entry per series pushed, as the SDK keeps for
 * its own.
 */
export class PushedDeltas implements PushedBefore {
  private readonly sums = new Map<string, number>();
  private readonly histograms = new Map<string, PushedHistogram>();
  private readonly lost: LostHistogram[] = [];
  private readonly sumTotals = new PushedTotals<number>();
  private readonly histogramTotals = new PushedTotals<CarriedHistogram>();
  private readonly lostTotals: LostHistogram[] = [];

  constructor(private readonly sdk: Pick<SdkMetrics, 'AggregationTemporality' | 'DataPointType'>) {}

  /** `inner`, with every delta it is handed added up here, and given back if it fails. */
  recording(inner: PushMetricExporter): PushMetricExporter {
    return {
      export: (metrics, done) => {
        const carried = this.carried(metrics, this.sdk.AggregationTemporality.DELTA);
        this.add(carried, 1);
        const totals = this.handTotals(metrics);
        try {
          inner.export(metrics, (result) => {
            const ok = failureOf(result) === undefined;
            if (!ok) this.giveBack(carried);
            totals(ok);
            done(result);
          });
        } catch (err) {
          this.giveBack(carried);
          totals(false);
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
    const key = keyOf(name, attributes);
    return (this.sums.get(key) ?? 0) + (this.sumTotals.held(key) ?? 0);
  }

  histogram(name: string, attributes: Attributes): PushedHistogram | undefined {
    const key = keyOf(name, attributes);
    return plus(this.histograms.get(key), this.histogramTotals.held(key)?.value);
  }

  onLost(lost: LostHistogram): void {
    this.lost.push(lost);
    this.lostTotals.push(lost);
  }

  /** The cumulative points of a push, handed: settle it with whether the push got through. */
  private handTotals(metrics: ResourceMetrics): (ok: boolean) => void {
    const { sums, histograms } = this.carried(metrics, this.sdk.AggregationTemporality.CUMULATIVE);
    const sumPush = this.sumTotals.hand(sums);
    const histogramPush = this.histogramTotals.hand(
      histograms.map((h) => ({ key: h.key, value: h })),
    );
    return (ok) => {
      this.sumTotals.settle(
        sumPush,
        sums.map((s) => s.key),
        ok,
      );
      this.histogramTotals.settle(
        histogramPush,
        histograms.map((h) => h.key),
        ok,
        (_key, before, after) => {
          const delta = minus(before.value, after?.value);
          for (const lost of this.lostTotals) lost(before.name, before.attributes, delta);
        },
      );
    };
  }

  /** The points of a push in `temporality`, per series. */
  private carried(resourceMetrics: ResourceMetrics, temporality: number): Carried {
    const { DataPointType: P } = this.sdk;
    const carried: Carried = { sums: [], histograms: [] };
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.aggregationTemporality !== temporality) continue;
        const name = metric.descriptor.name;
        if (metric.dataPointType === P.SUM) {
          for (const p of metric.dataPoints) {
            carried.sums.push({ key: keyOf(name, p.attributes), value: p.value });
          }
        } else if (metric.dataPointType === P.HISTOGRAM) {
          for (const { attributes, value } of metric.dataPoints) {
            const figures = {
              // A copy: the totals are kept past the push, and a producer may reuse its arrays.
              counts: [...value.buckets.counts],
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

/** Two histograms' figures added up; either may be missing. */
function plus(a: PushedHistogram | undefined, b: PushedHistogram | undefined) {
  if (!a || !b) return a ?? b;
  return {
    counts: a.counts.map((n, i) => n + (b.counts[i] ?? 0)),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

/** `a` less `b` (none: nothing less). */
function minus(a: PushedHistogram, b: PushedHistogram | undefined): PushedHistogram {
  if (!b) return a;
  return {
    counts: a.counts.map((n, i) => n - (b.counts[i] ?? 0)),
    sum: a.sum - b.sum,
    count: a.count - b.count,
  };
}
