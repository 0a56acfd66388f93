import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { METRICS } from '../../../src/metrics/index.js';
import { LocalHistograms } from '../../../src/otel/binding/local-histograms.js';
import { classicBuckets } from '../../../src/otel/exponential-buckets.js';
import { ENDS_RUN, MAX_KEPT_RUNS } from '../../../src/otel/exponential-ends.js';
import { PrometheusText } from '../../../src/otel/prometheus-text.js';
import { SCOPE } from '../../../src/otel/scope.js';
import { withPrometheusNames } from '../../../src/prometheus-names.js';

/**
 * A provider with every kind of instrument, label values that need escaping and a resource, fed
 * one more round of measurements on each call so later collections reuse the cached labels.
 */
function population() {
  const local = new LocalHistograms(sdk, SCOPE);
  const reader = new PrometheusExporter({ preventServerStart: true, metricProducers: [local] });
  const provider = new sdk.MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'svc "x"', 'deployment.count': 3 }),
    readers: [reader],
    views: [
      {
        instrumentName: 'exponential',
        aggregation: { type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM },
      },
    ],
  });
  const meter = provider.getMeter(SCOPE.name, SCOPE.version);
  const other = provider.getMeter('other.scope');
  const energy = meter.createCounter('hw.host.energy', { unit: 'J', description: 'a\\b\nc' });
  const requests = meter.createCounter('requests.total', { unit: '{request}' });
  const queue = meter.createUpDownCounter('queue.depth');
  const latency = meter.createHistogram('http.server.request.duration', { unit: 's' });
  const tokens = other.createHistogram('gen_ai.client.token.usage', {
    unit: '{token}',
    advice: { explicitBucketBoundaries: [1, 10, 100] },
  });
  const exponential = meter.createHistogram('exponential');
  let level = 0.5;
  meter
    .createObservableGauge('cpu.utilization', { unit: '1' })
    .addCallback((result) => result.observe(level, { 'cpu.mode': 'user' }));
  const localHistogram = local.histogram(METRICS.operationEnergy);
  const series = localHistogram.open({
    'carbonscope.operation': '/x',
    'carbonscope.estimated': true,
  });
  const attributeSets = [
    { 'http.route': '/a', 'http.response.status_code': 200 },
    { 'http.route': 'quote " back \\ line \n end', flag: true, list: ['a', 'b'] },
    { 'http.route': '/café/µs/☕' },
    {},
  ];
  return {
    round(n: number) {
      level = n / 10;
      for (const attributes of attributeSets) {
        energy.add(n, attributes);
        requests.add(1, attributes);
        queue.add(n % 2 ? 1 : -2, attributes);
        latency.record(n / 100, attributes);
      }
      tokens.record(50 * n, { 'gen_ai.request.model': 'm' });
      exponential.record(n);
      localHistogram.record(series, n / 1000);
    },
    collect: async () => (await reader.collect()).resourceMetrics,
    shutdown: () => provider.shutdown(),
  };
}

const BRIDGE = resourceFromAttributes({ 'service.name': 'bridge' });

/** One scope's metrics as a producer (a bridge from another library) hands them over. */
function bridged(...metrics: sdk.MetricData[]): sdk.ResourceMetrics {
  return { resource: BRIDGE, scopeMetrics: [{ scope: { name: 'bridge' }, metrics }] };
}

/** A cumulative counter's or a gauge's metric with one point. */
function pointOf(
  type: sdk.DataPointType.SUM | sdk.DataPointType.GAUGE,
  name: string,
  description: string,
  attributes: Attributes,
  value: number,
): sdk.MetricData {
  const common = {
    descriptor: { name, description, unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
    dataPoints: [{ attributes, startTime: [0, 0] as HrTime, endTime: [1, 0] as HrTime, value }],
  };
  return type === sdk.DataPointType.SUM
    ? { ...common, dataPointType: type, isMonotonic: true }
    : { ...common, dataPointType: type };
}

/** The collection without its exponential histograms. */
function withoutExponential(collected: sdk.ResourceMetrics): sdk.ResourceMetrics {
  return {
    ...collected,
    scopeMetrics: collected.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.filter(
        (m) => m.dataPointType !== sdk.DataPointType.EXPONENTIAL_HISTOGRAM,
      ),
    })),
  };
}

/**
 * The collection with each exponential histogram made the classic one classicBuckets makes of
 * it: what the OTel serializer then writes is what PrometheusText wrote before its bucket ends
 * were kept by layout (the two write explicit histograms alike, byte for byte).
 */
function asClassic(collected: sdk.ResourceMetrics): sdk.ResourceMetrics {
  const classic = (metric: sdk.MetricData): sdk.MetricData =>
    metric.dataPointType === sdk.DataPointType.EXPONENTIAL_HISTOGRAM
      ? {
          descriptor: metric.descriptor,
          aggregationTemporality: metric.aggregationTemporality,
          dataPointType: sdk.DataPointType.HISTOGRAM,
          dataPoints: metric.dataPoints.map((point) => ({
            ...point,
            value: classicBuckets(point.value),
          })),
        }
      : metric;
  return {
    ...collected,
    scopeMetrics: collected.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map(classic),
    })),
  };
}

/** What the OTel serializer writes for the collection made classic (asClassic). */
function classicText(collected: sdk.ResourceMetrics, scopeLabels = true): string {
  const serializer = new PrometheusSerializer('', false, undefined, false, !scopeLabels);
  return serializer.serialize(withPrometheusNames(asClassic(collected), sdk));
}

/** A small seeded generator: the same points on every run, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * A random exponential point: any scale the SDK makes (-10 to 20), buckets near 1 mostly and
 * now and then anywhere from 2^-1100 to past the largest double (bounds of 0 and ±Infinity),
 * negative buckets and a zero bucket or not, -0 for an offset now and then.
 */
function randomExponential(random: () => number): sdk.ExponentialHistogram {
  const scale = Math.floor(random() * 31) - 10;
  const offset = () => {
    if (random() < 0.05) return -0;
    const exponent = random() < 0.7 ? random() * 80 - 40 : random() * 2200 - 1100;
    return Math.round(exponent * 2 ** scale);
  };
  const counts = (length: number) =>
    Array.from({ length }, () => (random() < 0.2 ? 0 : Math.floor(random() * 50)));
  const positive = { offset: offset(), bucketCounts: counts(Math.floor(random() * 14)) };
  const negative = {
    offset: offset(),
    bucketCounts: counts(random() < 0.3 ? Math.floor(random() * 6) : 0),
  };
  const zeroCount = random() < 0.5 ? 0 : Math.floor(random() * 5);
  const total = (bucketCounts: number[]) => bucketCounts.reduce((a, b) => a + b, 0);
  const point = {
    count: zeroCount + total(positive.bucketCounts) + total(negative.bucketCounts),
    scale,
    zeroCount,
    positive,
    negative,
  };
  return random() < 0.1 ? point : { ...point, sum: (random() - 0.3) * 1e4 };
}

/** The same layout (scale, offsets, lengths) with other counts: a series laid out as another. */
function sameLayout(
  value: sdk.ExponentialHistogram,
  random: () => number,
): sdk.ExponentialHistogram {
  const recount = (bucketCounts: number[]) => bucketCounts.map(() => Math.floor(random() * 9));
  const positive = { ...value.positive, bucketCounts: recount(value.positive.bucketCounts) };
  const negative = { ...value.negative, bucketCounts: recount(value.negative.bucketCounts) };
  return { ...value, count: value.count + 1, positive, negative };
}

/**
 * A series' point at the next collection: a new one, the one it had, another with the same
 * layout (its own or another series'), or the same buckets at the next scale, with the zero
 * bucket come or gone, or one bucket further from zero on one side (an offset alone moves),
 * which change the bounds and nothing else.
 */
function nextPoint(
  random: () => number,
  before: sdk.ExponentialHistogram | undefined,
  twin: sdk.ExponentialHistogram | undefined,
): sdk.ExponentialHistogram {
  const roll = random();
  if (before === undefined || roll < 0.3) return randomExponential(random);
  if (roll < 0.45 && twin !== undefined) return sameLayout(twin, random);
  if (roll < 0.6) return sameLayout(before, random);
  if (roll < 0.66) return { ...before, scale: before.scale === 20 ? -10 : before.scale + 1 };
  if (roll < 0.72) return { ...before, zeroCount: before.zeroCount > 0 ? 0 : 2 };
  const { negative, positive } = before;
  if (roll < 0.78) return { ...before, negative: { ...negative, offset: negative.offset + 1 } };
  if (roll < 0.84) return { ...before, positive: { ...positive, offset: positive.offset + 1 } };
  return before;
}

/** The points of a collection's exponential histograms. */
function exponentialValues(collected: sdk.ResourceMetrics): sdk.ExponentialHistogram[] {
  return collected.scopeMetrics.flatMap((scope) =>
    scope.metrics.flatMap((metric) =>
      metric.dataPointType === sdk.DataPointType.EXPONENTIAL_HISTOGRAM
        ? metric.dataPoints.map((point) => point.value)
        : [],
    ),
  );
}

/** The runs of bucket ends (ExponentialEnds) a collection's points write from, counted apart. */
function runsNeeded(values: readonly sdk.ExponentialHistogram[]): number {
  const runs = new Set<string>();
  for (const { scale, negative, positive } of values) {
    for (const [side, { offset, bucketCounts }] of [negative, positive].entries()) {
      for (let k = 0; k < bucketCounts.length; k++) {
        runs.add(`${scale} ${side} ${Math.floor((offset + k) / ENDS_RUN)}`);
      }
    }
  }
  return runs.size;
}

/** A sample line's `le` and value, for one metric's bucket lines. */
function buckets(text: string, name: string): Array<[number, number]> {
  const pattern = new RegExp(`^${name}_bucket\\{.*le="([^"]+)"\\} (\\S+)$`, 'gm');
  return [...text.matchAll(pattern)].map((m) => [
    m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    Number(m[2]),
  ]);
}

/** An exponential histogram's metric with a series for each point. */
function exponentialsOf(values: readonly sdk.ExponentialHistogram[]): sdk.MetricData {
  return {
    descriptor: { name: 'bridged.exp', description: 'e', unit: 's', valueType: ValueType.DOUBLE },
    aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
    dataPointType: sdk.DataPointType.EXPONENTIAL_HISTOGRAM,
    dataPoints: values.map((value, i) => ({
      attributes: { series: i },
      startTime: [0, 0] as HrTime,
      endTime: [1, 0] as HrTime,
      value,
    })),
  };
}

/** An exponential histogram's metric with one point, as a bridge may hand it over. */
function exponentialOf(value: sdk.ExponentialHistogram): sdk.MetricData {
  return {
    descriptor: { name: 'bridged.exp', description: 'e', unit: 's', valueType: ValueType.DOUBLE },
    aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
    dataPointType: sdk.DataPointType.EXPONENTIAL_HISTOGRAM,
    dataPoints: [{ attributes: {}, startTime: [0, 0], endTime: [1, 0], value }],
  };
}

describe('PrometheusText (the exposition /metrics serves)', () => {
  for (const scopeLabels of [true, false]) {
    it(`writes what the OTel serializer writes after withPrometheusNames, byte for byte (scope labels ${scopeLabels ? 'on' : 'off'})`, async () => {
      const app = population();
      const ours = new PrometheusText(sdk, { scopeLabels });
      const theirs = new PrometheusSerializer('', false, undefined, false, !scopeLabels);
      for (let n = 1; n <= 3; n++) {
        app.round(n);
        // Exponential histograms are the one kind written otherwise (a test of their own).
        const collected = withoutExponential(await app.collect());
        const expected = theirs.serialize(withPrometheusNames(collected, sdk));
        expect(expected).to.include('hw_host_energy_joules_total');
        expect(ours.serialize(collected)).to.equal(expected);
        // What a server sends: the same text as UTF-8, multi-byte label values included.
        expect(ours.encode(collected).equals(Buffer.from(expected, 'utf8'))).to.equal(true);
      }
      await app.shutdown();
    });
  }

  it('writes every number as the OTel serializer does, and a shared attributes object once per metric', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('edges');
    const values = [0, -0, 1.5, -3, 7, 2 ** 53 + 2, 1e21, 1e-7, -2.5e-9, 123456789012, NaN];
    values.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE);
    meter.createObservableGauge('edge.values').addCallback((result) => {
      values.forEach((value, i) => {
        result.observe(value, { i });
      });
    });
    // One attributes object for two instruments: each metric writes its own lines for it.
    const shared = { route: '/same' };
    const sizes = meter.createHistogram('edge.sizes', {
      unit: 'By',
      advice: { explicitBucketBoundaries: [0.5, 1e3, 2 ** 40] },
    });
    const counts = meter.createCounter('edge.counts');
    const ours = new PrometheusText(sdk);
    for (let round = 1; round <= 2; round++) {
      sizes.record(0.25 * round, shared);
      sizes.record(3e12, shared);
      counts.add(2 ** 52 * round, shared);
      const { resourceMetrics } = await reader.collect();
      const expected = new PrometheusSerializer().serialize(
        withPrometheusNames(resourceMetrics, sdk),
      );
      expect(expected).to.include('edge_values{i="5",otel_scope_name="edges"} 9007199254740994');
      expect(expected).to.include('edge_sizes_bytes_bucket{route="/same",');
      expect(ours.encode(resourceMetrics).toString('utf8')).to.equal(expected);
    }
    await provider.shutdown();
  });

  it("follows an instrument's description when the SDK lengthens it", async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('described');
    const attributes = { route: '/a' };
    meter.createCounter('described.requests', { description: 'short' }).add(1, attributes);
    const ours = new PrometheusText(sdk);
    const first = (await reader.collect()).resourceMetrics;
    expect(ours.serialize(first)).to.include('# HELP described_requests_total short\n');
    // The same instrument again with a longer description: the SDK keeps the storage and gives
    // it a new descriptor, so the lines cached for the first must not be written for it.
    meter.createCounter('described.requests', { description: 'a longer one' }).add(2, attributes);
    const second = (await reader.collect()).resourceMetrics;
    const expected = new PrometheusSerializer().serialize(second);
    expect(expected).to.include('# HELP described_requests_total a longer one\n');
    expect(ours.serialize(second)).to.equal(expected);
    await provider.shutdown();
  });

  it('writes what the OTel serializer writes where a producer makes a new descriptor each time', () => {
    // The series' attributes are kept from one collection to the next, the descriptor is not.
    const attributes = { route: '/b' };
    const ours = new PrometheusText(sdk);
    const rounds: Array<[string, number]> = [
      ['short', 1],
      ['short', 2],
      ['a longer one', 3],
    ];
    for (const [description, value] of rounds) {
      const metrics = bridged(
        pointOf(sdk.DataPointType.SUM, 'bridged.requests', description, attributes, value),
      );
      const expected = new PrometheusSerializer().serialize(metrics);
      expect(expected).to.include(`# HELP bridged_requests_total ${description}\n`);
      expect(ours.serialize(metrics)).to.equal(expected);
    }
  });

  it("keeps only the latest collection's metrics: a description changed at every collection does not grow it", () => {
    const attributes = { route: '/c' };
    const moving = (description: string, value: number) =>
      pointOf(sdk.DataPointType.SUM, 'bridged.moving', description, attributes, value);
    const steady = (value: number) =>
      pointOf(sdk.DataPointType.GAUGE, 'bridged.steady', 'steady', attributes, value);
    const ours = new PrometheusText(sdk);
    for (let i = 1; i <= 1_000; i++) {
      const metrics = bridged(moving(`moved ${i} times`, i), steady(i));
      const text = ours.serialize(metrics);
      if (i % 250 === 0) expect(text).to.equal(new PrometheusSerializer().serialize(metrics));
    }
    expect(ours.keptMetrics).to.equal(2);
    // A metric missing from one collection is made again when it comes back, as it was.
    ours.serialize(bridged(steady(1)));
    expect(ours.keptMetrics).to.equal(1);
    const back = bridged(moving('back', 2), steady(2));
    expect(ours.serialize(back)).to.equal(new PrometheusSerializer().serialize(back));
  });

  it('writes label names Prometheus parses: a leading digit gets key_, keys that make one name make one label', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    // As OTEL_RESOURCE_ATTRIBUTES may give them: a name twice, or a name that begins with a
    // digit, failed the whole scrape in Prometheus (up 0), every series lost.
    const provider = new sdk.MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'svc',
        service_name: 'dup',
        '1st': 'x',
        'a.b': 1,
        'a-b': 'q"uote',
        '': 'nameless',
      }),
      readers: [reader],
    });
    const counter = provider.getMeter('m').createCounter('c');
    counter.add(1, { 'http.route': '/a', http_route: '/b', '9lives': 'cat' });
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusText(sdk).serialize(resourceMetrics);
    const names = (line: string) =>
      [...line.matchAll(/(?:^|[{,])([^=,{]*)="(?:\\.|[^"\\])*"/g)].map((m) => m[1]);
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      const labels = names(line);
      for (const name of labels) expect(name, line).to.match(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
      expect(new Set(labels).size, line).to.equal(labels.length);
    }
    const info = text.split('\n').find((l) => l.startsWith('target_info{')) ?? '';
    // Joined with `;` in the order of the keys (the OTel spec's rule for a collision).
    expect(info).to.include('service_name="svc;dup"').and.include('key_1st="x"');
    expect(info).to.include('a_b="q\\"uote;1"').and.not.include('nameless');
    expect(text).to.match(
      /^c_total\{http_route="\/a;\/b",key_9lives="cat",otel_scope_name="m"\} 1$/m,
    );
    await provider.shutdown();
  });

  it("leaves out an attribute named as a label the exposition adds (le, otel_scope_*), as the Collector's do", async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('m', '1.0');
    // Written twice in one line, either failed the whole scrape (promtool: a parse error).
    meter
      .createHistogram('h', { advice: { explicitBucketBoundaries: [1] } })
      .record(0.5, { le: 'x', kept: 'k' });
    meter.createCounter('c').add(1, { 'otel.scope.name': 'x', otel_scope_version: 'y', le: 'z' });
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusText(sdk).serialize(resourceMetrics);
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples).to.include.members([
      'h_count{kept="k",otel_scope_name="m",otel_scope_version="1.0"} 1',
      'h_bucket{kept="k",otel_scope_name="m",otel_scope_version="1.0",le="1"} 1',
      'c_total{le="z",otel_scope_name="m",otel_scope_version="1.0"} 1',
    ]);
    // Without the scope's labels, the attribute is the only one of its name: kept.
    expect(new PrometheusText(sdk, { scopeLabels: false }).serialize(resourceMetrics)).to.match(
      /^c_total\{otel_scope_name="x",otel_scope_version="y",le="z"\} 1$/m,
    );
    await provider.shutdown();
  });

  it('writes an exponential histogram as a classic one, each bucket at its upper bound', async () => {
    // The OTel serializer writes `# TYPE … untyped` and no sample at all: the metric was gone
    // from the scrape, with one diag line, for a user whose View or exporter chose exponential.
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({
      readers: [reader],
      views: [
        {
          instrumentName: 'work.duration',
          aggregation: { type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM },
        },
      ],
    });
    const histogram = provider.getMeter('m').createHistogram('work.duration', { unit: 's' });
    const values = [0, 0.0003, 0.3, 0.3, 1.5, 3, 7, 100, 12345.6];
    for (const value of values) histogram.record(value, { route: '/a' });
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusText(sdk).serialize(resourceMetrics);
    expect(text).to.include('# TYPE work_duration_seconds histogram\n');
    const sum = values.reduce((a, b) => a + b, 0);
    expect(text).to.include(`work_duration_seconds_sum{route="/a",otel_scope_name="m"} ${sum}\n`);
    expect(text).to.include(`work_duration_seconds_count{route="/a",otel_scope_name="m"} 9\n`);
    const lines = buckets(text, 'work_duration_seconds');
    expect(lines.length).to.be.greaterThan(5);
    expect(lines.at(-1)).to.deep.equal([Number.POSITIVE_INFINITY, values.length]);
    for (let i = 0; i < lines.length; i++) {
      const [le, count] = lines[i] as [number, number];
      if (i > 0)
        expect(le, 'le increasing').to.be.greaterThan((lines[i - 1] as number[])[0] as number);
      // Cumulative: every value at or under the bound, none above it.
      expect(count, `le="${le}"`).to.equal(values.filter((v) => v <= le).length);
    }
    await provider.shutdown();
  });

  it('writes the edges of an exponential histogram: only zeros, scale -10, no bucket', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({
      readers: [reader],
      views: [
        {
          instrumentName: 'spread',
          aggregation: { type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 2 } },
        },
        {
          instrumentName: 'zeros',
          aggregation: { type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM },
        },
      ],
    });
    const meter = provider.getMeter('m');
    // Two buckets for 1e-300 and 1e300: scale -10, base 2^1024, whose bucket 0 ends at 2^1024,
    // past the largest double: its bound is +Inf, written once, as the last line.
    const spread = meter.createHistogram('spread');
    for (const value of [1e-300, 1e300]) spread.record(value);
    const zeros = meter.createHistogram('zeros');
    for (let i = 0; i < 3; i++) zeros.record(0);
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusText(sdk, { scopeLabels: false }).serialize(resourceMetrics);
    expect(buckets(text, 'spread')).to.deep.equal([
      [1, 1],
      [Number.POSITIVE_INFINITY, 2],
    ]);
    expect(buckets(text, 'zeros')).to.deep.equal([
      [0, 3],
      [Number.POSITIVE_INFINITY, 3],
    ]);
    await provider.shutdown();
    const empty = bridged(
      exponentialOf({
        count: 0,
        sum: 0,
        scale: 20,
        zeroCount: 0,
        positive: { offset: 0, bucketCounts: [] },
        negative: { offset: 0, bucketCounts: [] },
      }),
    );
    const none = new PrometheusText(sdk, { scopeLabels: false }).serialize(empty);
    expect(buckets(none, 'bridged_exp_seconds')).to.deep.equal([[Number.POSITIVE_INFINITY, 0]]);
  });

  it('writes negative, zero and positive exponential buckets in the order of their bounds', () => {
    // Scale 0: base 2; negative bucket 1 is [-4, -2), positive bucket -1 is (0.5, 1].
    const metrics = bridged(
      exponentialOf({
        count: 6,
        sum: -7,
        scale: 0,
        zeroCount: 1,
        positive: { offset: -1, bucketCounts: [1, 0, 1] },
        negative: { offset: 1, bucketCounts: [2, 1] },
      }),
    );
    const text = new PrometheusText(sdk, { scopeLabels: false }).serialize(metrics);
    expect(buckets(text, 'bridged_exp_seconds')).to.deep.equal([
      [-4, 1],
      [-2, 3],
      [0, 4],
      [1, 5],
      [2, 5],
      [4, 6],
      [Number.POSITIVE_INFINITY, 6],
    ]);
    expect(text).to.include('# TYPE bridged_exp_seconds histogram\n');
    expect(text).to.include('bridged_exp_seconds_count 6\n');
  });

  it('writes random exponential histograms as before, collection after collection, as layouts change and series go', () => {
    // Their bucket ends are kept by layout from one collection to the next: the lines must be
    // those of the classic histogram classicBuckets makes of each point, whatever was kept.
    const random = seeded(71);
    const ours = new PrometheusText(sdk);
    const series: Attributes[] = Array.from({ length: 8 }, (_, i) => ({ route: `/r${i}` }));
    const names = ['bridged.exp', 'bridged.other'];
    const latest = new Map<string, sdk.ExponentialHistogram>();
    let written = 0;
    for (let collection = 1; collection <= 300; collection++) {
      const metrics = names.map((name, m) => {
        const dataPoints = series.flatMap((attributes, i) => {
          // A series missing from a collection comes back later with the point it had or
          // another: its layout may be one a collection between them dropped.
          if (random() < 0.2) return [];
          const key = `${m} ${i}`;
          const before = latest.get(key);
          const twin = latest.get(`${m} ${(i + 1) % series.length}`);
          const value = nextPoint(random, before, twin);
          latest.set(key, value);
          return [{ attributes, startTime: [0, 0] as HrTime, endTime: [1, 0] as HrTime, value }];
        });
        written += dataPoints.length;
        const metric: sdk.ExponentialHistogramMetricData = {
          descriptor: { name, description: 'e', unit: 's', valueType: ValueType.DOUBLE },
          aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
          dataPointType: sdk.DataPointType.EXPONENTIAL_HISTOGRAM,
          dataPoints,
        };
        return metric;
      });
      const collected = bridged(...metrics);
      const expected = classicText(collected);
      expect(ours.serialize(collected), `collection ${collection}`).to.equal(expected);
      const values = metrics.flatMap((metric) => metric.dataPoints.map((point) => point.value));
      expect(ours.keptEndRuns, 'runs kept').to.equal(runsNeeded(values));
    }
    expect(written).to.be.greaterThan(3000);
    // A collection without them keeps none; one series keeps the runs it crosses.
    ours.serialize(bridged());
    expect(ours.keptEndRuns).to.equal(0);
    const value = randomExponential(random);
    const one = bridged(exponentialOf(value));
    expect(ours.serialize(one)).to.equal(classicText(one));
    expect(ours.keptEndRuns).to.equal(runsNeeded([value]));
  });

  it("writes the SDK's exponential histograms as before while they rescale", async () => {
    // Few buckets, values spreading round after round: each series' scale falls as it goes,
    // and its offsets move, so the layout kept for it at one scrape is wrong at the next.
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({
      readers: [reader],
      views: [
        {
          instrumentName: 'spreading',
          aggregation: {
            type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM,
            options: { maxSize: 12 },
          },
        },
      ],
    });
    const histogram = provider.getMeter('m').createHistogram('spreading', { unit: 's' });
    const random = seeded(7);
    const series = Array.from({ length: 5 }, (_, i) => ({ op: `op${i}` }));
    const ours = new PrometheusText(sdk);
    const scales = new Set<number>();
    for (let round = 1; round <= 40; round++) {
      series.forEach((attributes, i) => {
        // Series i starts near 10^-i and spreads a little further each round.
        for (let n = 0; n < 5; n++) {
          histogram.record(10 ** (-i + (random() - 0.5) * round * 0.2), attributes);
        }
        if (random() < 0.1) histogram.record(0, attributes);
      });
      const { resourceMetrics } = await reader.collect();
      for (const value of exponentialValues(resourceMetrics)) scales.add(value.scale);
      expect(ours.serialize(resourceMetrics), `round ${round}`).to.equal(
        classicText(resourceMetrics),
      );
      expect(ours.keptEndRuns).to.equal(runsNeeded(exponentialValues(resourceMetrics)));
    }
    // The rescaling the test is about did happen.
    expect(scales.size).to.be.greaterThan(3);
    await provider.shutdown();
  });

  it('shares the bucket ends of series at one scale, whatever their offsets and lengths', () => {
    // 100 series, each its own layout, crossing 139 bucket indexes between them: 5 runs.
    const values = Array.from({ length: 100 }, (_, i) => ({
      count: 40,
      sum: 1,
      scale: 3,
      zeroCount: 0,
      positive: { offset: i, bucketCounts: new Array<number>(40).fill(1) },
      negative: { offset: 0, bucketCounts: [] },
    }));
    const collected = bridged(exponentialsOf(values));
    const ours = new PrometheusText(sdk);
    expect(ours.serialize(collected)).to.equal(classicText(collected));
    expect(ours.keptEndRuns).to.equal(runsNeeded(values)).and.to.equal(5);
  });

  it("writes a bridge's point whose indexes are no integers as the classic one, keeping nothing", () => {
    const point = (scale: number, offset: number) => ({
      count: 3,
      sum: 1,
      scale,
      zeroCount: 1,
      positive: { offset, bucketCounts: [1, 1] },
      negative: { offset, bucketCounts: [] },
    });
    const values = [point(0, 0.5), point(1.5, 2), point(-3, 2 ** 60), point(20, -(2 ** 53))];
    const collected = bridged(exponentialsOf(values));
    const ours = new PrometheusText(sdk);
    expect(ours.serialize(collected)).to.equal(classicText(collected));
    expect(ours.keptEndRuns).to.equal(0);
  });

  it("keeps a bridge's negative and positive ends apart at a huge integer scale", () => {
    // At scale 2^52 every bound is 1 (base 2^(2^-2^52)): the negative buckets end at -1, the
    // positive ones at 1. A side keyed as scale * 2 + 1 rounds to scale * 2 there, and one
    // side's run was written for the other's (le="-1" for a positive bucket).
    const value = {
      count: 3,
      sum: 1,
      scale: 2 ** 52,
      zeroCount: 1,
      positive: { offset: 3, bucketCounts: [1] },
      negative: { offset: 3, bucketCounts: [1] },
    };
    const collected = bridged(exponentialsOf([value]));
    expect(new PrometheusText(sdk).serialize(collected)).to.equal(classicText(collected));
  });

  it('keeps at most MAX_KEPT_RUNS runs of bucket ends, and writes the lines past them as before', () => {
    // Series at scale 20, each 40 buckets apart from all others': they share nothing, and a
    // run kept for each grew with their number (25 MB for the 3,004 at the 600-name cap).
    const values = Array.from({ length: 600 }, (_, i) => ({
      count: 40,
      sum: 1,
      scale: 20,
      zeroCount: i % 2,
      positive: { offset: i * 1000 + 20, bucketCounts: new Array<number>(40).fill(1) },
      negative: { offset: i * 1000, bucketCounts: i % 3 === 0 ? [1, 2] : [] },
    }));
    expect(runsNeeded(values)).to.be.greaterThan(MAX_KEPT_RUNS);
    const ours = new PrometheusText(sdk);
    for (let scrape = 1; scrape <= 3; scrape++) {
      const collected = bridged(exponentialsOf(values));
      expect(ours.serialize(collected), `scrape ${scrape}`).to.equal(classicText(collected));
      expect(ours.keptEndRuns, `scrape ${scrape}`).to.equal(MAX_KEPT_RUNS);
    }
  });

  it('keeps no more layouts when a collection throws midway, scrape after scrape', () => {
    // A bridge's malformed point fails the scrape after the layouts before it were kept: they
    // must still be dropped, or a scrape that fails every time grows them by one a series each.
    const moving = (i: number): sdk.ExponentialHistogram => ({
      count: 2,
      sum: 3,
      scale: 0,
      zeroCount: 0,
      positive: { offset: i, bucketCounts: [1, 1] },
      negative: { offset: 0, bucketCounts: [] },
    });
    const broken: sdk.ExponentialHistogramMetricData = {
      descriptor: {
        name: 'bridged.broken',
        description: 'b',
        unit: '',
        valueType: ValueType.DOUBLE,
      },
      aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
      dataPointType: sdk.DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: [
        {
          attributes: {},
          startTime: [0, 0],
          endTime: [1, 0],
          value: { count: 1 } as unknown as sdk.ExponentialHistogram,
        },
      ],
    };
    const ours = new PrometheusText(sdk);
    for (let i = 1; i <= 50; i++) {
      expect(() => ours.serialize(bridged(exponentialOf(moving(i)), broken))).to.throw(TypeError);
      expect(ours.keptEndRuns, `scrape ${i}`).to.equal(runsNeeded([moving(i)]));
    }
    const good = bridged(exponentialOf(moving(51)));
    expect(ours.serialize(good)).to.equal(classicText(good));
    expect(ours.keptEndRuns).to.equal(1);
  });

  it('says so when nothing is registered, as the OTel serializer does', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusText(sdk).serialize(resourceMetrics);
    expect(text).to.equal(new PrometheusSerializer().serialize(resourceMetrics));
    expect(text).to.match(/# no registered metrics$/);
    expect(new PrometheusText(sdk).encode(resourceMetrics).toString('utf8')).to.equal(text);
    await provider.shutdown();
  });
});
