import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { METRICS } from '../../../src/metrics/index.js';
import { LocalHistograms } from '../../../src/otel/local-histograms.js';
import { SCOPE } from '../../../src/otel/scope.js';

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
