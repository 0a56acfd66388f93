import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import type { MetricSpec } from '../metrics/index.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type CollectionResult = import('@opentelemetry/sdk-metrics').CollectionResult;
type MetricProducer = import('@opentelemetry/sdk-metrics').MetricProducer;
type HistogramMetricData = import('@opentelemetry/sdk-metrics').HistogramMetricData;
type Resource = CollectionResult['resourceMetrics']['resource'];

/** One attribute set's running histogram: what a data point needs, kept in place. */
export interface HistogramSeries {
  readonly attributes: Attributes;
  readonly counts: Float64Array;
  sum: number;
  count: number;
  min: number;
  max: number;
  readonly startTime: HrTime;
}

/**
 * Where carbonscope records a histogram. With the SDK's histograms each record hashes its
 * attributes (a JSON.stringify per call, about a microsecond); these series are found once per
 * attribute set and then recorded into with a few additions, and published at collection.
 */
export class LocalHistogram {
  private readonly boundaries: readonly number[];
  readonly series: HistogramSeries[] = [];
  /** The same object at every collection, as the SDK's are: exporters may cache by it. */
  readonly descriptor: HistogramMetricData['descriptor'];

  constructor(readonly spec: MetricSpec) {
    this.boundaries = spec.buckets ?? [];
    this.descriptor = {
      name: spec.name,
      description: spec.description,
      unit: spec.unit,
      valueType: ValueType.DOUBLE,
    };
  }

  /** A new series for `attributes` (the caller keeps it and records into it). */
  open(attributes: Attributes): HistogramSeries {
    const series: HistogramSeries = {
      attributes,
      counts: new Float64Array(this.boundaries.length + 1),
      sum: 0,
      count: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      startTime: hrNow(),
    };
    this.series.push(series);
    return series;
  }

  /** Allocation-free: the bucket is found by a scan of at most a couple dozen boundaries. */
  record(series: HistogramSeries, value: number): void {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    series.counts[i]++;
    series.sum += value;
    series.count++;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
  }
}

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/**
 * The local histograms as an SDK MetricProducer: a reader given it (`metricProducers`) exports
 * them with everything else, cumulative, under carbonscope's scope. Built from the SDK module
 * the application loaded, so its enums are that SDK's (2.x or 3.x).
 */
export class LocalHistograms implements MetricProducer {
  private readonly histograms: LocalHistogram[] = [];

  constructor(
    private readonly sdk: Pick<SdkMetrics, 'AggregationTemporality' | 'DataPointType'>,
    private readonly scope: { name: string; version?: string },
  ) {}

  histogram(spec: MetricSpec): LocalHistogram {
    const histogram = new LocalHistogram(spec);
    this.histograms.push(histogram);
    return histogram;
  }

  /** Forgets every histogram (the instruments were detached). */
  clear(): void {
    this.histograms.length = 0;
  }

  async collect(): Promise<CollectionResult> {
    const { sdk } = this;
    const endTime = hrNow();
    const metrics = this.histograms
      .filter((h) => h.series.length > 0)
      .map((h): HistogramMetricData => {
        // One copy per histogram, shared by its points, as the SDK's own histograms do.
        const boundaries = [...(h.spec.buckets ?? [])];
        return {
          descriptor: h.descriptor,
          aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
          dataPointType: sdk.DataPointType.HISTOGRAM,
          dataPoints: h.series.map((s) => ({
            attributes: s.attributes,
            startTime: s.startTime,
            endTime,
            value: {
              buckets: { boundaries, counts: Array.from(s.counts) },
              sum: s.sum,
              count: s.count,
              min: s.count > 0 ? s.min : undefined,
              max: s.count > 0 ? s.max : undefined,
            },
          })),
        };
      });
    return {
      resourceMetrics: {
        // A reader keeps its own resource and appends only a producer's scope metrics.
        resource: undefined as unknown as Resource,
        scopeMetrics: metrics.length ? [{ scope: this.scope, metrics }] : [],
      },
      errors: [],
    };
  }
}
