import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { alignedDeltaStarts } from '../../../../src/otel/binding/delta-starts.js';
import type { ResourceMetrics } from '../../../../src/otel/sdk/index.js';
import { deltaSumBatch } from '../../../helpers/metrics.js';

const { DELTA, CUMULATIVE } = sdk.AggregationTemporality;

/** Collections a few ms apart: times are whole ms at best, and one in the same ms hides a gap. */
const apart = () => new Promise((resolve) => setTimeout(resolve, 5));

/** A provider whose reader pushes to `temporality`'s in-memory exporter through the aligner. */
function pushing(temporality: sdk.AggregationTemporality) {
  const memory = new sdk.InMemoryMetricExporter(temporality);
  const reader = new sdk.PeriodicExportingMetricReader({
    exporter: alignedDeltaStarts(memory),
    exportIntervalMillis: 3_600_000,
  });
  const provider = new sdk.MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  /** Every point of metric `name` pushed, by push. */
  const points = (name: string) =>
    memory.getMetrics().map((r) => {
      const metrics = r.scopeMetrics.flatMap((s) => s.metrics);
      return metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
    });
  return { meter, push: () => reader.forceFlush(), points, shutdown: () => provider.shutdown() };
}

describe('alignedDeltaStarts (delta points the Collector can add up)', () => {
  it('a series quiet for a push: its next point starts where its last one ended, its value as it was', async () => {
    const p = pushing(DELTA);
    const counter = p.meter.createCounter('c');
    const histogram = p.meter.createHistogram('h');
    const busy = () => {
      counter.add(2, { route: 'a' });
      histogram.record(3, { route: 'a' });
    };
    busy();
    await p.push();
    await apart();
    // Another series keeps the push from being empty.
    counter.add(1, { route: 'b' });
    await p.push();
    await apart();
    busy();
    await p.push();
    for (const name of ['c', 'h']) {
      const [first, , third] = p
        .points(name)
        .map((ps) => ps.find((x) => x.attributes.route === 'a'));
      expect(first, name).to.not.equal(undefined);
      expect(third?.startTime, name).to.deep.equal(first?.endTime);
    }
    const [third] = p.points('c')[2] ?? [];
    expect(third?.value).to.equal(2);
    await p.shutdown();
  });

  it('leaves cumulative points alone: each starts where its series began', async () => {
    const p = pushing(CUMULATIVE);
    const counter = p.meter.createCounter('c');
    counter.add(1);
    await p.push();
    await apart();
    counter.add(1);
    await p.push();
    const [[first], [second]] = p.points('c');
    expect(second?.startTime).to.deep.equal(first?.startTime);
    expect(second?.value).to.equal(2);
    await p.shutdown();
  });

  it('an older point handed over late does not move the next start back over one sent', () => {
    const sent: ResourceMetrics[] = [];
    const exporter = alignedDeltaStarts({
      export: (metrics, done) => {
        sent.push(metrics);
        done({ code: 0 });
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    });
    for (const [start, end] of [
      [2, 3],
      [1, 2],
      [5, 6],
    ] as const) {
      exporter.export(deltaSumBatch(start, end), () => undefined);
    }
    const starts = sent.map((r) => r.scopeMetrics[0]?.metrics[0]?.dataPoints[0]?.startTime[0]);
    expect(starts).to.deep.equal([2, 1, 3]);
  });
});
