import {
  type Attributes,
  type Histogram,
  type HrTime,
  type Meter,
  ValueType,
} from '@opentelemetry/api';
import { typeOf } from '../../argument-checks.js';
import { createInstrument, type MetricSpec } from '../../metrics/index.js';
import { attributesKey } from './attributes-key.js';
import { checkSdkModule } from './config-checks.js';
import type { PushedBefore, PushedHistogram } from './pushed-before.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type CollectionResult = import('@opentelemetry/sdk-metrics').CollectionResult;
type MetricProducer = import('@opentelemetry/sdk-metrics').MetricProducer;
type HistogramMetricData = import('@opentelemetry/sdk-metrics').HistogramMetricData;
type HistogramPoint = HistogramMetricData['dataPoints'][number];
type AggregationTemporality = import('@opentelemetry/sdk-metrics').AggregationTemporality;
type InstrumentType = import('@opentelemetry/sdk-metrics').InstrumentType;
type Resource = CollectionResult['resourceMetrics']['resource'];

/**
 * One attribute set's running histogram: what a data point needs, kept in place. Its numbers
 * are one array (the bucket counts, then sum, count, min and max) so that a record writes one
 * run of memory: as fields, each double was a box of its own, one more cache line a record
 * touched in a server whose other work evicts them between requests.
 */
export interface HistogramSeries {
  readonly attributes: Attributes;
  readonly values: Float64Array;
  readonly startTime: HrTime;
}

/** Where each figure sits after the bucket counts. */
const SUM = 0;
const COUNT = 1;
const MIN = 2;
const MAX = 3;

/**
 * Where carbonscope records a histogram. With the SDK's histograms each record hashes its
 * attributes (a JSON.stringify per call, about a microsecond); these series are found once per
 * attribute set and then recorded into with a few additions, and published at collection.
 */
export class LocalHistogram {
  private readonly boundaries: readonly number[];
  /** The index of the sum in a series' values: the bucket counts come first. */
  private readonly stats: number;
  readonly series: HistogramSeries[] = [];
  private readonly byKey = new Map<string, HistogramSeries>();
  /** The same object at every collection, as the SDK's are: exporters may cache by it. */
  readonly descriptor: HistogramMetricData['descriptor'];

  constructor(readonly spec: MetricSpec) {
    this.boundaries = spec.buckets ?? [];
    this.stats = this.boundaries.length + 1;
    this.descriptor = {
      name: spec.name,
      description: spec.description,
      unit: spec.unit,
      valueType: ValueType.DOUBLE,
    };
  }

  /** A new series for `attributes` (the caller keeps it and records into it). */
  open(attributes: Attributes): HistogramSeries {
    const values = new Float64Array(this.stats + 4);
    values[this.stats + MIN] = Number.POSITIVE_INFINITY;
    values[this.stats + MAX] = Number.NEGATIVE_INFINITY;
    const series: HistogramSeries = { attributes, values, startTime: hrNow() };
    this.series.push(series);
    const key = attributesKey(attributes);
    if (!this.byKey.has(key)) this.byKey.set(key, series);
    return series;
  }

  /**
   * The series opened first for `attributes`, or a new one: instruments bound again (another
   * meter provider, an instrumentation enabled again) go on counting where they left off.
   */
  seriesOf(attributes: Attributes): HistogramSeries {
    // Once per attribute set and binding, never per record: a key string is fine here.
    return this.byKey.get(attributesKey(attributes)) ?? this.open(attributes);
  }

  /** Allocation-free: the bucket is found by a scan of at most a couple dozen boundaries. */
  record(series: HistogramSeries, value: number): void {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    const v = series.values;
    const at = this.stats;
    v[i]++;
    v[at + SUM] += value;
    v[at + COUNT]++;
    if (value < v[at + MIN]) v[at + MIN] = value;
    if (value > v[at + MAX]) v[at + MAX] = value;
  }

  /**
   * Hands `emit` values that give `series` again, recorded into any histogram with these
   * boundaries: its count, bucket counts, min and max, and its sum to rounding. The min and the
   * max once each, the others from the low end of their bucket raised toward its high end,
   * in order, until they add up to the sum (the values recorded were in those bounds, so they
   * can). Two passes, nothing kept: a series may hold millions.
   */
  replay(series: HistogramSeries, emit: (value: number) => void): void {
    const v = series.values;
    const at = this.stats;
    const count = v[at + COUNT];
    if (!(count > 0)) return;
    const min = v[at + MIN];
    const max = v[at + MAX];
    const minBucket = this.bucketOf(min);
    const maxBucket = this.bucketOf(max);
    let rest = v[at + SUM] - min - (count > 1 ? max : 0);
    this.forEachValue(v, minBucket, maxBucket, count, (low) => {
      rest -= low;
    });
    emit(min);
    if (count > 1) emit(max);
    this.forEachValue(v, minBucket, maxBucket, count, (low, high) => {
      const raise = rest > 0 ? Math.min(rest, high - low) : 0;
      rest -= raise;
      emit(low + raise);
    });
  }

  /**
   * As replay, what `series` recorded beyond `less` (deltas already pushed): its count, bucket
   * counts and sum to rounding (spread).
   */
  replayRest(series: HistogramSeries, less: PushedHistogram, emit: (value: number) => void): void {
    const v = series.values;
    const at = this.stats;
    const left = (i: number) => v[i] - (less.counts[i] ?? 0);
    this.spread(series, left, v[at + COUNT] - less.count, v[at + SUM] - less.sum, emit);
  }

  /**
   * As replay, a delta of `series` (one a push carried, which then failed): its count, bucket
   * counts and sum to rounding (spread).
   */
  replayDelta(
    series: HistogramSeries,
    delta: PushedHistogram,
    emit: (value: number) => void,
  ): void {
    this.spread(series, (i) => delta.counts[i] ?? 0, delta.count, delta.sum, emit);
  }

  /**
   * Hands `emit` `countOf(i)` values in each bucket i of `series`, adding up to `sum` to
   * rounding. Their own min and max are not known, so each value starts at the low end of its
   * bucket (the series' min, at least) and is raised toward the high end (its max, at most)
   * until they add up.
   */
  private spread(
    series: HistogramSeries,
    countOf: (bucket: number) => number,
    count: number,
    sum: number,
    emit: (value: number) => void,
  ): void {
    if (!(count > 0)) return;
    const v = series.values;
    const at = this.stats;
    const b = this.boundaries;
    const min = v[at + MIN];
    const max = v[at + MAX];
    const low = (i: number) => (i === 0 ? min : Math.max(min, justAbove(b[i - 1])));
    const high = (i: number) => (i === b.length ? max : Math.min(max, b[i]));
    let rest = sum;
    for (let i = 0; i <= b.length; i++) rest -= Math.max(0, countOf(i)) * low(i);
    for (let i = 0; i <= b.length; i++) {
      for (let k = 0; k < countOf(i); k++) {
        const raise = rest > 0 ? Math.min(rest, high(i) - low(i)) : 0;
        rest -= raise;
        emit(low(i) + raise);
      }
    }
  }

  /** The bucket a value falls in, as record() finds it. */
  private bucketOf(value: number): number {
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    return i;
  }

  /**
   * Calls `fn` with the bounds of every value of a series but its min and max (replay emits
   * those): the low end of its bucket (above the boundary below, not under the min) and the
   * high end (the boundary, not over the max).
   */
  private forEachValue(
    v: Float64Array,
    minBucket: number,
    maxBucket: number,
    count: number,
    fn: (low: number, high: number) => void,
  ): void {
    const b = this.boundaries;
    const min = v[this.stats + MIN];
    const max = v[this.stats + MAX];
    for (let i = 0; i <= b.length; i++) {
      let n = v[i];
      if (i === minBucket) n--;
      if (i === maxBucket && count > 1) n--;
      if (!(n > 0)) continue;
      const low = i === 0 ? min : Math.max(min, justAbove(b[i - 1]));
      const high = i === b.length ? max : Math.min(max, b[i]);
      for (let k = 0; k < n; k++) fn(low, high);
    }
  }

  /** Room for deltaPoint's `last`: a series' bucket counts, sum and count, all zero. */
  emptyFigures(): Float64Array {
    return new Float64Array(this.stats + 2);
  }

  /**
   * What `series` recorded since `last` (its bucket counts, sum and count at a reader's
   * previous collection) as a data point's value, undefined where it recorded nothing; `last`
   * then takes the figures now. No min nor max: they cannot be derived from cumulative figures,
   * and OTLP lets a point leave them out.
   */
  deltaPoint(
    series: HistogramSeries,
    last: Float64Array,
    boundaries: number[],
  ): HistogramPoint['value'] | undefined {
    const v = series.values;
    const at = this.stats;
    const count = v[at + COUNT] - last[at + COUNT];
    if (!(count > 0)) return undefined;
    const counts = new Array<number>(at);
    for (let i = 0; i < at; i++) {
      counts[i] = v[i] - last[i];
      last[i] = v[i];
    }
    const sum = v[at + SUM] - last[at + SUM];
    last[at + SUM] = v[at + SUM];
    last[at + COUNT] = v[at + COUNT];
    return { buckets: { boundaries, counts }, sum, count };
  }

  /** A series' figures as an SDK data point's value. */
  point(
    series: HistogramSeries,
    boundaries: number[],
  ): HistogramMetricData['dataPoints'][number]['value'] {
    const v = series.values;
    const at = this.stats;
    const count = v[at + COUNT];
    // A loop, not Array.from(subarray): its iterator took ~12 % of a scrape of the service.
    const counts = new Array<number>(at);
    for (let i = 0; i < at; i++) counts[i] = v[i] as number;
    return {
      buckets: { boundaries, counts },
      sum: v[at + SUM],
      count,
      min: count > 0 ? v[at + MIN] : undefined,
      max: count > 0 ? v[at + MAX] : undefined,
    };
  }
}

/** The least number above `x` by a relative step (a value there falls in the bucket above x). */
function justAbove(x: number): number {
  return x + Math.max(Math.abs(x) * Number.EPSILON, Number.MIN_VALUE);
}

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/**
 * What says a reader's temporality for histograms: its exporter (OTLP's follows
 * OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE), as PeriodicExportingMetricReader asks it.
 */
export interface TemporalitySource {
  selectAggregationTemporality?(instrumentType: InstrumentType): AggregationTemporality;
}

/**
 * A temporality producer() can follow: a value of the SDK's enum, an exporter or reader (any
 * object: one without a selector is cumulative, as the SDK takes it), or none. 'delta' or 1 was
 * taken as cumulative, without a word, and null failed as a TypeError naming nothing.
 */
function checkTemporality(temporality: unknown, T: SdkMetrics['AggregationTemporality']): void {
  if (temporality === undefined || temporality === T.DELTA || temporality === T.CUMULATIVE) return;
  if (typeof temporality === 'object' && temporality !== null) return;
  throw new TypeError(
    'LocalHistograms.producer(): the temporality must be sdkMetrics.AggregationTemporality.DELTA ' +
      `or CUMULATIVE, or the exporter that selects it, got ${typeOf(temporality)}`,
  );
}

/**
 * One delta reader's state: each series' figures at its previous collection, and the end of the
 * last point it exported of each series.
 */
interface DeltaState {
  readonly last: WeakMap<HistogramSeries, Float64Array>;
  readonly ends: WeakMap<HistogramSeries, HrTime>;
}

/**
 * What each LocalHistograms runs before it is read: the settling of the bindings that settle at
 * collection. Kept here, not on the class, which is public: only bindMetrics adds to it.
 */
const beforeCollect = new WeakMap<LocalHistograms, Set<() => void>>();

/**
 * Has `histograms` run `settle` each time a reader collects it, before it is read, until the
 * returned function is called. A reader reads its producers beside the SDK's own collection,
 * whose observable callbacks settle too: the SDK does not say which it reads first.
 */
export function settleBeforeCollect(histograms: LocalHistograms, settle: () => void): () => void {
  let settlers = beforeCollect.get(histograms);
  if (!settlers) {
    settlers = new Set();
    beforeCollect.set(histograms, settlers);
  }
  const own = settlers;
  // A Set keeps one entry per function: each binding gives its own closure.
  const entry = () => settle();
  own.add(entry);
  return () => {
    own.delete(entry);
  };
}

/**
 * The local histograms as an SDK MetricProducer: a reader given it (`metricProducers`) exports
 * them with everything else, cumulative, under carbonscope's scope; a reader given
 * `producer(exporter)` exports them as its exporter asks (delta under OTLP's delta and
 * lowmemory preferences). Built from the SDK module the application loaded, so its enums are
 * that SDK's (2.x or 3.x).
 */
export class LocalHistograms implements MetricProducer {
  private readonly histograms: LocalHistogram[] = [];

  constructor(
    private readonly sdk: Pick<
      SdkMetrics,
      'AggregationTemporality' | 'DataPointType' | 'InstrumentType'
    >,
    private readonly scope: { name: string; version?: string },
  ) {
    // Checked here, not in the collection where they are first read (every scrape or push).
    checkSdkModule(sdk, 'LocalHistograms', [
      'AggregationTemporality',
      'DataPointType',
      'InstrumentType',
    ]);
    const name = (scope as { name?: unknown } | null | undefined)?.name;
    if (typeof scope !== 'object' || typeof name !== 'string' || name === '') {
      throw new TypeError(
        `LocalHistograms: the scope must be { name, version? } (carbonscope's SCOPE), got ${typeOf(scope)}`,
      );
    }
  }

  /**
   * The histogram of `spec`, new or the one made before under its name: instruments bound again
   * (another meter provider, an instrumentation enabled again) go on with the series they had,
   * as the SDK's own histograms keep theirs.
   */
  histogram(spec: MetricSpec): LocalHistogram {
    const made = this.histograms.find((h) => h.spec.name === spec.name);
    if (made) return made;
    const histogram = new LocalHistogram(spec);
    this.histograms.push(histogram);
    return histogram;
  }

  /**
   * Records every series into `meter`'s histograms of the same names (LocalHistogram.replay):
   * what carbonscope's own provider counted, carried to the application's SDK when that starts
   * late, so that the own provider need not push it. Less what it pushed before (`pushed`): a
   * collector adds its deltas to what the application's SDK pushes, and keeps its series.
   */
  replay(meter: Meter, pushed?: PushedBefore): void {
    const into = new Map<string, Histogram>();
    for (const h of this.histograms) {
      if (h.series.length === 0) continue;
      const histogram = createInstrument(meter, { ...h.spec, kind: 'histogram' });
      into.set(h.spec.name, histogram);
      for (const s of h.series) {
        const emit = (value: number) => histogram.record(value, s.attributes);
        const less = pushed?.histogram(h.spec.name, s.attributes);
        if (less) h.replayRest(s, less, emit);
        else h.replay(s, emit);
      }
    }
    // A push in flight was taken as pushed: should it fail, what it carried is recorded too.
    pushed?.onLost((name, attributes, delta) => {
      const h = this.histograms.find((x) => x.spec.name === name);
      const histogram = into.get(name);
      if (!h || !histogram) return;
      h.replayDelta(h.seriesOf(attributes), delta, (value) => histogram.record(value, attributes));
    });
  }

  /**
   * A producer for one reader, in `temporality` or the one `temporality`'s exporter selects for
   * histograms (cumulative where it selects none, as the SDK's readers default). Cumulative is
   * these histograms themselves, which any number of readers share. Delta keeps what its reader
   * exported last, so each reader needs its own: a series that recorded nothing since is left
   * out, as the SDK leaves out its own delta histograms' unchanged attribute sets.
   */
  producer(temporality?: AggregationTemporality | TemporalitySource): MetricProducer {
    const { AggregationTemporality: T } = this.sdk;
    checkTemporality(temporality, T);
    const chosen =
      typeof temporality === 'object'
        ? temporality.selectAggregationTemporality?.(this.sdk.InstrumentType.HISTOGRAM)
        : temporality;
    if (chosen !== T.DELTA) return this;
    const state: DeltaState = { last: new WeakMap(), ends: new WeakMap() };
    return { collect: async () => this.collectDelta(state) };
  }

  /** Every series' totals since it began (cumulative). */
  async collect(): Promise<CollectionResult> {
    this.settle();
    const endTime = hrNow();
    return this.result(this.sdk.AggregationTemporality.CUMULATIVE, (h, boundaries) =>
      h.series.map((s) => ({
        attributes: s.attributes,
        startTime: s.startTime,
        endTime,
        value: h.point(s, boundaries),
      })),
    );
  }

  /**
   * What each series recorded since its last point of `state`'s, from that point's end (from the
   * series' start before its first). Not from the previous collection: a series left out of it
   * recorded nothing then, and a point that starts where the series' last one ended is what a
   * consumer adds to it. The Collector's Prometheus exporter takes any other start as a restart:
   * it replaced the series' count with the new point's (10 requests, a quiet push, then 5: 5).
   */
  private collectDelta(state: DeltaState): CollectionResult {
    this.settle();
    const endTime = hrNow();
    return this.result(this.sdk.AggregationTemporality.DELTA, (h, boundaries) => {
      const points: HistogramPoint[] = [];
      for (const s of h.series) {
        let last = state.last.get(s);
        if (last === undefined) {
          last = h.emptyFigures();
          state.last.set(s, last);
        }
        const value = h.deltaPoint(s, last, boundaries);
        if (!value) continue;
        const startTime = state.ends.get(s) ?? s.startTime;
        state.ends.set(s, endTime);
        points.push({ attributes: s.attributes, startTime, endTime, value });
      }
      return points;
    });
  }

  /** Records what ended since the last sample, as the collection's observed figures do. */
  private settle(): void {
    for (const settle of beforeCollect.get(this) ?? []) settle();
  }

  /** A collection of the histograms whose `pointsOf` gives points, in `temporality`. */
  private result(
    temporality: AggregationTemporality,
    pointsOf: (h: LocalHistogram, boundaries: number[]) => HistogramPoint[],
  ): CollectionResult {
    const metrics: HistogramMetricData[] = [];
    for (const h of this.histograms) {
      if (h.series.length === 0) continue;
      // One copy per histogram, shared by its points, as the SDK's own histograms do.
      const dataPoints = pointsOf(h, [...(h.spec.buckets ?? [])]);
      if (dataPoints.length === 0) continue;
      metrics.push({
        descriptor: h.descriptor,
        aggregationTemporality: temporality,
        dataPointType: this.sdk.DataPointType.HISTOGRAM,
        dataPoints,
      });
    }
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
