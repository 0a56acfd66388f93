import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import type { PushedHistogram } from '../../../src/otel/binding/pushed-before.js';
import { PushedDeltas } from '../../../src/otel/pushed-deltas.js';
import type { PushMetricExporter, ResourceMetrics } from '../../../src/otel/sdk/optional-sdk.js';

type Result = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];

/** An exporter whose pushes are answered by the test: answer(i, ok) settles push i. */
function heldExporter() {
  const answers: Array<(result: Result) => void> = [];
  const exporter: PushMetricExporter = {
    export: (_metrics, done) => {
      answers.push(done);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const answer = (i: number, ok: boolean) =>
    answers[i]?.(ok ? { code: 0 } : { code: 1, error: new Error('refused') });
  return { exporter, answer };
}

const JOB = { 'carbonscope.operation': 'job' };

/** One push: counter `energy` at `joules` and histogram `op` at `count` (1 J each), cumulative. */
function push(joules: number, count: number, temporality = AggregationTemporality.CUMULATIVE) {
  const point = (value: unknown) => ({
    attributes: JOB,
    startTime: [0, 0],
    endTime: [1, 0],
    value,
  });
  return {
    resource: {},
    scopeMetrics: [
      {
        scope: { name: 'carbonscope' },
        metrics: [
          {
            descriptor: { name: 'energy' },
            aggregationTemporality: temporality,
            dataPointType: DataPointType.SUM,
            dataPoints: [point(joules)],
          },
          {
            descriptor: { name: 'op' },
            aggregationTemporality: temporality,
            dataPointType: DataPointType.HISTOGRAM,
            dataPoints: [
              point({ buckets: { boundaries: [1], counts: [0, count] }, sum: count, count }),
            ],
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

describe('PushedDeltas: cumulative pushes, as the totals a collector holds', () => {
  it('holds the latest push that did not fail, in flight or delivered', () => {
    const pushed = new PushedDeltas(sdkMetrics);
    const { exporter, answer } = heldExporter();
    const recording = pushed.recording(exporter);
    recording.export(push(5, 2), () => undefined);
    answer(0, true);
    recording.export(push(8, 3), () => undefined);
    expect(pushed.sum('energy', JOB)).to.equal(8);
    answer(1, false);
    expect(pushed.sum('energy', JOB)).to.equal(5);
    expect(pushed.histogram('op', JOB)?.count).to.equal(2);
  });

  it('a push that failed behind a later one in flight changes nothing; the later failing too, none', () => {
    const pushed = new PushedDeltas(sdkMetrics);
    const { exporter, answer } = heldExporter();
    const recording = pushed.recording(exporter);
    recording.export(push(5, 2), () => undefined);
    recording.export(push(8, 3), () => undefined);
    answer(0, false);
    expect(pushed.sum('energy', JOB)).to.equal(8);
    answer(1, false);
    expect(pushed.sum('energy', JOB)).to.equal(0);
    expect(pushed.histogram('op', JOB)).to.equal(undefined);
  });

  it('tells what a failed push took as held: a replay records it', () => {
    const pushed = new PushedDeltas(sdkMetrics);
    const { exporter, answer } = heldExporter();
    const recording = pushed.recording(exporter);
    const lost: PushedHistogram[] = [];
    pushed.onLost((_name, _attributes, delta) => lost.push(delta));
    recording.export(push(5, 2), () => undefined);
    answer(0, true);
    recording.export(push(8, 3), () => undefined);
    answer(1, false);
    expect(lost).to.deep.equal([{ counts: [0, 1], sum: 1, count: 1 }]);
  });
});
