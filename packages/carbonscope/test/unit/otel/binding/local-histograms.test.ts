import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { METRICS } from '../../../../src/metrics/index.js';
import { LocalHistograms } from '../../../../src/otel/binding/local-histograms.js';
import { SCOPE } from '../../../../src/otel/scope.js';

/** A provider with a Prometheus reader, optionally fed by local histograms. */
function exposition(producers: sdk.MetricProducer[] = []) {
  const reader = new PrometheusExporter({ preventServerStart: true, metricProducers: producers });
  const provider = new sdk.MeterProvider({ readers: [reader] });
  const serializer = new PrometheusSerializer('', false, undefined, true, true);
  return {
    meter: provider.getMeter(SCOPE.name, SCOPE.version),
    text: async () => serializer.serialize((await reader.collect()).resourceMetrics),
    shutdown: () => provider.shutdown(),
  };
}

describe('local histograms (recorded in place, exported by the reader)', () => {
  it('export exactly what the SDK histogram exports for the same values', async () => {
    const values = [0, 2e-6, 2.9e-6, 3e-6, 0.00042, 0.9, 1, 250, 1e4];
    const viaSdk = exposition();
    const sdkHistogram = viaSdk.meter.createHistogram(METRICS.operationEnergy.name, {
      unit: METRICS.operationEnergy.unit,
      description: METRICS.operationEnergy.description,
      advice: { explicitBucketBoundaries: [...METRICS.operationEnergy.buckets] },
    });
    for (const v of values) sdkHistogram.record(v, { operation: '/x' });

    const local = new LocalHistograms(sdk, SCOPE);
    const viaLocal = exposition([local]);
    const histogram = local.histogram(METRICS.operationEnergy);
    const series = histogram.open({ operation: '/x' });
    for (const v of values) histogram.record(series, v);

    const lines = (text: string) =>
      text.split('\n').filter((l) => l.startsWith('carbonscope_operation_energy'));
    const fromSdk = lines(await viaSdk.text());
    expect(fromSdk).to.have.length(METRICS.operationEnergy.buckets.length + 3);
    expect(lines(await viaLocal.text())).to.deep.equal(fromSdk);
    // What the exposition leaves out, as OTLP carries it.
    const [metric] = (await local.collect()).resourceMetrics.scopeMetrics[0].metrics;
    expect(metric.dataPoints[0].value).to.include({ count: values.length, min: 0, max: 1e4 });
    await viaSdk.shutdown();
    await viaLocal.shutdown();
  });

  it('replay a series as values that give it again: count, buckets, min, max, and its sum', () => {
    const local = new LocalHistograms(sdk, SCOPE);
    const histogram = local.histogram(METRICS.operationEnergy);
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const cases: number[][] = [
      [0.5],
      [3e-6, 3e-6, 3e-6],
      [0, 1e-6, 1e-6, 2e-6, 1e4],
      Array.from({ length: 5000 }, () => 10 ** (random() * 9 - 7)),
    ];
    for (const values of cases) {
      const series = histogram.open({ operation: 'x' });
      for (const v of values) histogram.record(series, v);
      const again = histogram.open({ operation: 'again' });
      histogram.replay(series, (v) => histogram.record(again, v));
      const buckets = METRICS.operationEnergy.buckets.length + 1;
      expect([...again.values.slice(0, buckets)]).to.deep.equal([
        ...series.values.slice(0, buckets),
      ]);
      // Count, min and max exactly; the sum to rounding.
      const [s0, c0, min0, max0] = series.values.slice(buckets);
      const [s1, c1, min1, max1] = again.values.slice(buckets);
      expect([c1, min1, max1]).to.deep.equal([c0, min0, max0]);
      expect(s1).to.be.closeTo(s0, s0 * 1e-12);
    }
  });

  it('replay what a series recorded beyond the deltas pushed: its count, buckets and sum', () => {
    const local = new LocalHistograms(sdk, SCOPE);
    const histogram = local.histogram(METRICS.operationEnergy);
    const buckets = METRICS.operationEnergy.buckets.length + 1;
    const series = histogram.open({ operation: 'x' });
    for (const v of [1e-6, 0.02, 0.5, 3e3]) histogram.record(series, v);
    // What a delta push carried, then what came after it.
    const pushed = histogram.deltaPoint(series, histogram.emptyFigures(), []);
    if (!pushed) throw new Error('nothing pushed');
    const after = [2e-6, 0.03, 0.03, 9e3];
    const rest = histogram.open({ operation: 'rest' });
    for (const v of after) histogram.record(series, v);
    for (const v of after) histogram.record(rest, v);
    const again = histogram.open({ operation: 'again' });
    histogram.replayRest(
      series,
      { counts: pushed.buckets.counts, sum: pushed.sum ?? 0, count: pushed.count },
      (v) => histogram.record(again, v),
    );
    expect([...again.values.slice(0, buckets)]).to.deep.equal([...rest.values.slice(0, buckets)]);
    const [s0, c0] = rest.values.slice(buckets);
    const [s1, c1] = again.values.slice(buckets);
    expect(c1).to.equal(c0);
    expect(s1).to.be.closeTo(s0, s0 * 1e-12);
  });

  it('drop what cannot be a measurement (negative, NaN, infinite) and export nothing unused', async () => {
    const local = new LocalHistograms(sdk, SCOPE);
    const histogram = local.histogram(METRICS.operationEmissions);
    const series = histogram.open({ operation: 'job' });
    for (const v of [-1, Number.NaN, Number.POSITIVE_INFINITY]) histogram.record(series, v);
    expect(histogram.point(series, []).count).to.equal(0);
    // A series starts with nothing seen: its first values set min and max, not a zero it began at.
    for (const v of [0.3, 0.7]) histogram.record(series, v);
    expect(histogram.point(series, [])).to.include({ count: 2, min: 0.3, max: 0.7 });
    expect(histogram.point(series, []).sum).to.be.closeTo(1, 1e-12);
    local.histogram(METRICS.httpDuration); // never opened: no empty metric
    const { resourceMetrics } = await local.collect();
    const [scope] = resourceMetrics.scopeMetrics;
    expect(scope.scope).to.deep.equal(SCOPE);
    expect(scope.metrics.map((m) => m.descriptor.name)).to.deep.equal([
      METRICS.operationEmissions.name,
    ]);
  });
});

/** The one metric's points of a collection (none when it exported nothing). */
async function pointsOf(producer: sdk.MetricProducer) {
  const { resourceMetrics } = await producer.collect();
  const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  expect(metrics.length).to.be.at.most(1);
  const [metric] = metrics as sdk.HistogramMetricData[];
  return { temporality: metric?.aggregationTemporality, points: metric?.dataPoints ?? [] };
}

/** A histogram with boundaries [1, 10] and one series `a`, recorded with `values`. */
function recorded(values: number[]) {
  const local = new LocalHistograms(sdk, SCOPE);
  const histogram = local.histogram({ ...METRICS.operationEnergy, buckets: [1, 10] });
  const series = histogram.open({ operation: 'a' });
  const record = (vs: number[]) => {
    for (const v of vs) histogram.record(series, v);
  };
  record(values);
  return { local, histogram, record };
}

describe('local histograms under delta temporality (a reader of its own each)', () => {
  const { DELTA, CUMULATIVE } = sdk.AggregationTemporality;

  it('a delta view exports what was recorded since its previous collection, no min nor max', async () => {
    const { local, record } = recorded([0.5, 2, 20]);
    const delta = local.producer(DELTA);
    const first = await pointsOf(delta);
    expect(first.temporality).to.equal(DELTA);
    expect(first.points[0].value).to.deep.include({ count: 3, sum: 22.5 });
    expect(first.points[0].value.buckets.counts).to.deep.equal([1, 1, 1]);
    record([3, 4]);
    const second = await pointsOf(delta);
    expect(second.temporality).to.equal(DELTA);
    const [point] = second.points;
    expect(point.value.buckets).to.deep.equal({ boundaries: [1, 10], counts: [0, 2, 0] });
    expect(point.value).to.include({ count: 2, sum: 7 });
    expect([point.value.min, point.value.max]).to.deep.equal([undefined, undefined]);
    // The interval starts where the previous one ended.
    expect(point.startTime).to.deep.equal(first.points[0].endTime);
  });

  it('a delta view leaves out a series that recorded nothing since (as the SDK does)', async () => {
    const { local, record } = recorded([1]);
    const delta = local.producer(DELTA);
    expect((await pointsOf(delta)).points).to.have.length(1);
    expect((await pointsOf(delta)).points).to.have.length(0);
    expect((await local.producer(DELTA).collect()).resourceMetrics.scopeMetrics).to.have.length(1);
    record([5]);
    const [point] = (await pointsOf(delta)).points;
    expect(point.value).to.include({ count: 1, sum: 5 });
  });

  // The Collector's Prometheus exporter adds a delta point to a series only where it starts at
  // the end of the one before; any other start it takes as a restart, and drops the count.
  it("a series' next point after quiet collections starts where its last point ended", async () => {
    const { local, record } = recorded([1]);
    const delta = local.producer(DELTA);
    const [first] = (await pointsOf(delta)).points;
    // Collections a few ms apart: the times are whole ms, and one the same ms would hide it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await pointsOf(delta)).points).to.have.length(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    record([5]);
    const [point] = (await pointsOf(delta)).points;
    expect(point.startTime).to.deep.equal(first.endTime);
  });

  it('a cumulative view, and the histograms themselves, export the totals at every collection', async () => {
    const { local, record } = recorded([0.5, 2]);
    for (const producer of [local, local.producer(CUMULATIVE), local.producer()]) {
      const { temporality, points } = await pointsOf(producer);
      expect(temporality).to.equal(CUMULATIVE);
      expect(points[0].value).to.include({ count: 2, sum: 2.5, min: 0.5, max: 2 });
    }
    record([30]);
    const { points } = await pointsOf(local.producer(CUMULATIVE));
    expect(points[0].value).to.include({ count: 3, sum: 32.5, min: 0.5, max: 30 });
    expect(points[0].value.buckets.counts).to.deep.equal([1, 1, 1]);
  });

  it('two readers, one delta and one cumulative, do not disturb each other', async () => {
    const { local, record } = recorded([2]);
    const delta = local.producer(DELTA);
    const otherDelta = local.producer(DELTA);
    const cumulative = local.producer(CUMULATIVE);
    expect((await pointsOf(delta)).points[0].value.count).to.equal(1);
    record([3, 4]);
    expect((await pointsOf(cumulative)).points[0].value.count).to.equal(3);
    expect((await pointsOf(delta)).points[0].value).to.include({ count: 2, sum: 7 });
    // Its first collection: everything since the series began.
    expect((await pointsOf(otherDelta)).points[0].value).to.include({ count: 3, sum: 9 });
    record([5]);
    expect((await pointsOf(otherDelta)).points[0].value).to.include({ count: 1, sum: 5 });
    expect((await pointsOf(delta)).points[0].value).to.include({ count: 1, sum: 5 });
    expect((await pointsOf(cumulative)).points[0].value).to.include({ count: 4, sum: 14 });
  });

  it("takes an exporter's temporality for histograms, and matches the SDK's own delta histogram", async () => {
    const values = [[0.5, 2, 20], [3], [], [11, 0]];
    const exporter = new sdk.InMemoryMetricExporter(DELTA);
    const local = new LocalHistograms(sdk, SCOPE);
    const reader = new sdk.PeriodicExportingMetricReader({
      exporter,
      metricProducers: [local.producer(exporter)],
      exportIntervalMillis: 3_600_000,
    });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    const spec = { ...METRICS.operationEnergy, buckets: [1, 10] };
    const viaSdk = provider.getMeter('sdk').createHistogram('via.sdk', {
      advice: { explicitBucketBoundaries: spec.buckets },
    });
    const histogram = local.histogram(spec);
    const series = histogram.open({ operation: 'a' });
    for (const batch of values) {
      for (const v of batch) {
        viaSdk.record(v, { operation: 'a' });
        histogram.record(series, v);
      }
      await reader.forceFlush();
    }
    const exported = exporter.getMetrics().map((r) => {
      const metrics = r.scopeMetrics.flatMap((s) => s.metrics) as sdk.HistogramMetricData[];
      const figures = (m: sdk.HistogramMetricData | undefined) => {
        expect(m?.aggregationTemporality ?? DELTA).to.equal(DELTA);
        return m?.dataPoints.map(({ value }) => [value.count, value.sum, value.buckets.counts]);
      };
      const local = metrics.find((m) => m.descriptor.name === spec.name);
      return [figures(metrics.find((m) => m.descriptor.name === 'via.sdk')), figures(local)];
    });
    // The reader pushes nothing where nothing was recorded (the third batch).
    expect(exported).to.have.length(3);
    for (const [fromSdk, fromLocal] of exported) expect(fromLocal).to.deep.equal(fromSdk);
    expect(exported[1][1]).to.deep.equal([[1, 3, [0, 1, 0]]]);
    await provider.shutdown();
  });
});
