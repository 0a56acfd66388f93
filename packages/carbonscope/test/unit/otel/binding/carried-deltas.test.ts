import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { carryingFailedDeltas } from '../../../../src/otel/binding/carried-deltas.js';
import type { ExportResult, ResourceMetrics } from '../../../../src/otel/sdk/index.js';
import { deltaSumBatch } from '../../../helpers/metrics.js';

const { DELTA, CUMULATIVE } = sdk.AggregationTemporality;

const OK: ExportResult = { code: 0 };
/** What the OTLP exporter hands back when a collector answers with `status`. */
const refused = (status: number): ExportResult => ({
  code: 1,
  error: Object.assign(new Error('Service Unavailable'), { code: status }),
});
const NOT_CONNECTED: ExportResult = { code: 1, error: new Error('connect ECONNREFUSED') };

/**
 * A provider whose reader pushes through carryingFailedDeltas to an exporter that answers each
 * push with the next of `answers` (OK once they run out), keeping what each push carried.
 */
function pushing(answers: ExportResult[], maxPoints?: number) {
  const pushes: { metrics: ResourceMetrics; result: ExportResult }[] = [];
  const warnings: string[] = [];
  /** The points each warning counts: those no earlier one did. */
  const counted: number[] = [];
  const inner: sdk.PushMetricExporter = {
    export: (metrics, done) => {
      const result = answers.shift() ?? OK;
      pushes.push({ metrics, result });
      done(result);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
    selectAggregationTemporality: (type) =>
      type === sdk.InstrumentType.UP_DOWN_COUNTER ? CUMULATIVE : DELTA,
  };
  const exporter = carryingFailedDeltas(
    inner,
    (text, points) => {
      warnings.push(text);
      counted.push(points);
    },
    maxPoints,
  );
  const reader = new sdk.PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  const provider = new sdk.MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  /** The values of metric `name` that pushes which got through carried, added up. */
  const delivered = (name: string) => {
    let total = 0;
    for (const { metrics, result } of pushes) {
      if (result.code !== 0) continue;
      for (const metric of metrics.scopeMetrics.flatMap((s) => s.metrics)) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints) {
          const value = point.value;
          total += typeof value === 'number' ? value : value.count;
        }
      }
    }
    return total;
  };
  const push = () => reader.forceFlush().catch(() => undefined);
  const shutdown = () => provider.shutdown();
  return { meter, push, pushes, warnings, counted, delivered, shutdown };
}

describe('carryingFailedDeltas (a failed delta push goes again with the next)', () => {
  it('sends what a refused push and a push not connected carried with the next, once, counted exactly', async () => {
    const p = pushing([refused(503), NOT_CONNECTED]);
    const counter = p.meter.createCounter('requests');
    const histogram = p.meter.createHistogram('energy');
    for (const n of [1, 2, 4, 8]) {
      counter.add(n, { route: 'a' });
      histogram.record(n, { route: 'a' });
      await p.push();
    }
    expect(p.pushes.map((x) => x.result.code)).to.deep.equal([1, 1, 0, 0]);
    // Everything counted arrived, and nothing twice: the fourth push carries its own alone.
    expect(p.delivered('requests')).to.equal(15);
    expect(p.delivered('energy')).to.equal(4);
    const fourth = p.pushes[3]?.metrics.scopeMetrics.flatMap((s) => s.metrics) ?? [];
    expect(fourth.map((m) => m.dataPoints.length)).to.deep.equal([1, 1]);
    // The third push: its own points after the two failed pushes', each with its own times,
    // which tile time; its scope and each metric once (a consumer keyed on them takes no twin).
    const third = p.pushes[2]?.metrics.scopeMetrics ?? [];
    expect(third.map((s) => s.scope.name)).to.deep.equal(['test']);
    const metrics = third.flatMap((s) => s.metrics);
    expect(metrics.map((m) => m.descriptor.name)).to.deep.equal(['requests', 'energy']);
    const points = metrics[0]?.dataPoints ?? [];
    expect(points.map((d) => d.value)).to.deep.equal([1, 2, 4]);
    expect(points.slice(1).map((d) => d.startTime)).to.deep.equal(
      points.slice(0, -1).map((d) => d.endTime),
    );
    expect(p.warnings).to.deep.equal([]);
    await p.shutdown();
  });

  it('keeps no cumulative point: the next push carries its total again', async () => {
    const p = pushing([refused(503)]);
    const gauge = p.meter.createUpDownCounter('queue');
    gauge.add(3);
    await p.push();
    gauge.add(1);
    await p.push();
    const second = p.pushes[1]?.metrics.scopeMetrics.flatMap((s) => s.metrics) ?? [];
    expect(second.map((m) => m.dataPoints.map((d) => d.value))).to.deep.equal([[4]]);
    await p.shutdown();
  });

  it('drops what the collector refused as malformed (HTTP 400): it would be refused again', async () => {
    const p = pushing([refused(400)]);
    const counter = p.meter.createCounter('requests');
    counter.add(5);
    await p.push();
    counter.add(7);
    await p.push();
    expect(p.pushes[1]?.metrics.scopeMetrics.flatMap((s) => s.metrics)).to.have.length(1);
    expect(p.delivered('requests')).to.equal(7);
    await p.shutdown();
  });

  it('says how many carried points a push refused as malformed (HTTP 400) took with it', async () => {
    const p = pushing([refused(503), refused(400)]);
    const counter = p.meter.createCounter('requests');
    for (const n of [5, 7, 9]) {
      counter.add(n);
      await p.push();
    }
    // The first push's 5 went with the second, refused as malformed: lost, and said so.
    expect(p.delivered('requests')).to.equal(9);
    expect(p.warnings).to.deep.equal([
      'dropped 1 delta data points that failed pushes carried: the push that carried them again was refused as malformed (HTTP 400)',
    ]);
    // Counted as the refused push's, lost with all it carried: not beside the cap's.
    expect(p.counted).to.deep.equal([0]);
    await p.shutdown();
  });

  it('keeps at most its cap, the oldest dropped first, and says how many were dropped', async () => {
    const p = pushing([NOT_CONNECTED, NOT_CONNECTED, NOT_CONNECTED, NOT_CONNECTED], 4);
    const counter = p.meter.createCounter('requests');
    // Each push carries two points (one a series); the cap holds two pushes' points.
    for (const n of [1, 10, 100, 1000, 10000]) {
      counter.add(n, { route: 'a' });
      counter.add(n, { route: 'b' });
      await p.push();
    }
    // The last push carries the two before it and its own: the two oldest pushes are dropped.
    expect(p.delivered('requests')).to.equal(2 * (100 + 1000 + 10000));
    expect(p.warnings).to.deep.equal([
      'dropped 2 delta data points that failed pushes carried, the oldest: over the 4 kept to send again',
      'dropped 4 delta data points in all while pushes failed (over the 4 kept to send again)',
    ]);
    // The total line counts only what the first did not: summed, the 4 dropped, not 6.
    expect(p.counted).to.deep.equal([2, 2]);
    await p.shutdown();
  });

  it('keeps two failed pushes in flight at once in the order they were collected, either ending first', async () => {
    for (const firstEnds of [0, 1]) {
      const dones: Array<(result: ExportResult) => void> = [];
      const sent: ResourceMetrics[] = [];
      const inner: sdk.PushMetricExporter = {
        export: (metrics, done) => {
          sent.push(metrics);
          dones.push(done);
        },
        forceFlush: async () => undefined,
        shutdown: async () => undefined,
      };
      const exporter = carryingFailedDeltas(inner, () => undefined);
      const batch = (value: number) => deltaSumBatch(value, value + 1, value);
      exporter.export(batch(1), () => undefined);
      exporter.export(batch(2), () => undefined);
      dones[firstEnds]?.(NOT_CONNECTED);
      dones[1 - firstEnds]?.(NOT_CONNECTED);
      exporter.export(batch(3), () => undefined);
      const metrics = sent[2]?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
      const points = metrics.flatMap((m) => m.dataPoints.map((d) => d.value));
      expect(points, `push ${firstEnds + 1} ended first`).to.deep.equal([1, 2, 3]);
    }
  });
});
