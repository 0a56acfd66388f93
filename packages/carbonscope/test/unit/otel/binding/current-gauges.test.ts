import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { withCurrentGauges } from '../../../../src/otel/binding/current-gauges.js';
import { PrometheusText } from '../../../../src/otel/prometheus-text.js';

/**
 * A provider on `reader` with an observable gauge whose callback observes one `source` (the one
 * `state.source` names at the collection) and an observable counter that observes each source
 * it has ever been given, the way carbonscope's energy counters do.
 */
function instruments(reader: sdk.IMetricReader) {
  const provider = new sdk.MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  const state = { source: 'annual-average', value: 400 };
  const counted = new Map<string, number>();
  meter
    .createObservableGauge('grid.intensity')
    .addCallback((result) => result.observe(state.value, { source: state.source }));
  meter.createObservableCounter('energy').addCallback((result) => {
    counted.set(state.source, (counted.get(state.source) ?? 0) + 10);
    for (const [source, joules] of counted) result.observe(joules, { source });
  });
  return { provider, state };
}

type Points = Record<string, { type: sdk.DataPointType; values: Record<string, number> }>;

/** Each metric's point type and its values by `source`. */
function pointsOf(resourceMetrics: sdk.ResourceMetrics): Points {
  const points: Points = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const values: Record<string, number> = {};
      for (const point of metric.dataPoints) {
        values[String(point.attributes.source)] = point.value as number;
      }
      points[metric.descriptor.name] = { type: metric.dataPointType, values };
    }
  }
  return points;
}

describe('withCurrentGauges: an observable gauge exports what its callback observes now', () => {
  it('drops a source the gauge no longer observes from the Prometheus exposition', async () => {
    const reader = withCurrentGauges(sdk, new PrometheusExporter({ preventServerStart: true }));
    const { provider, state } = instruments(reader);
    const serializer = new PrometheusText(sdk, { scopeLabels: false });
    const text = async () =>
      serializer.encode((await reader.collect()).resourceMetrics).toString('utf8');
    try {
      const first = await text();
      expect(first).to.include('grid_intensity{source="annual-average"} 400');
      state.source = 'electricity-maps';
      state.value = 250;
      const second = await text();
      expect(second).to.include('# TYPE grid_intensity gauge');
      expect(second).to.include('grid_intensity{source="electricity-maps"} 250');
      expect(second).not.to.include('grid_intensity{source="annual-average"}');
      // The counter stays cumulative: both sources, each at its running total.
      expect(second).to.include('# TYPE energy_total counter');
      expect(second).to.include('energy_total{source="annual-average"} 10');
      expect(second).to.include('energy_total{source="electricity-maps"} 10');
    } finally {
      await provider.shutdown();
    }
  });

  it('drops it from an OTLP-style periodic push, the counter still cumulative', async () => {
    const exporter = new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE);
    const reader = withCurrentGauges(
      sdk,
      new sdk.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 }),
    );
    const { provider, state } = instruments(reader);
    try {
      await reader.forceFlush();
      state.source = 'electricity-maps';
      state.value = 250;
      await reader.forceFlush();
      state.value = 260;
      await reader.forceFlush();
      const pushes = exporter.getMetrics().map(pointsOf);
      expect(pushes).to.have.length(3);
      expect(pushes[0]?.['grid.intensity']).to.deep.equal({
        type: sdk.DataPointType.GAUGE,
        values: { 'annual-average': 400 },
      });
      expect(pushes[1]?.['grid.intensity']).to.deep.equal({
        type: sdk.DataPointType.GAUGE,
        values: { 'electricity-maps': 250 },
      });
      expect(pushes[2]?.['grid.intensity']?.values).to.deep.equal({ 'electricity-maps': 260 });
      expect(pushes[2]?.energy).to.deep.equal({
        type: sdk.DataPointType.SUM,
        values: { 'annual-average': 10, 'electricity-maps': 20 },
      });
      const energy = exporter
        .getMetrics()[2]
        ?.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === 'energy');
      expect(energy?.aggregationTemporality).to.equal(sdk.AggregationTemporality.CUMULATIVE);
    } finally {
      await provider.shutdown();
    }
  });

  it("keeps the exporter's choice for every other instrument (OTLP's delta preference)", () => {
    const exporter = new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.DELTA);
    const reader = withCurrentGauges(sdk, new sdk.PeriodicExportingMetricReader({ exporter }));
    for (const type of Object.values(sdk.InstrumentType)) {
      expect(reader.selectAggregationTemporality(type), type).to.equal(
        sdk.AggregationTemporality.DELTA,
      );
    }
  });
});
