import { expect } from 'chai';
import type { Logger } from '../../../src/log.js';
import {
  type ReportingExporter,
  reportingFailures,
} from '../../../src/otel/binding/push-failures.js';
import {
  LAST_PUSH_DEADLINE_MS,
  LAST_PUSH_OUTAGE_DEADLINE_MS,
  lastPushWithin,
} from '../../../src/otel/last-push.js';
import type { ExportResult, PushMetricExporter } from '../../../src/otel/sdk/optional-sdk.js';

const TARGET = 'http://al:PW-SECRET-1@collector:4318/v1/metrics?api_key=QUERY-SECRET-2';
const SHOWN = 'http://[redacted]@collector:4318/v1/metrics?api_key=[redacted]';

/** Three data points of two metrics. */
const BATCH = {
  resource: {},
  scopeMetrics: [{ scope: { name: 's' }, metrics: [{ dataPoints: [1, 2] }, { dataPoints: [3] }] }],
} as never;

/** BATCH as the SDK exports it under OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta. */
const DELTA_BATCH = {
  resource: {},
  scopeMetrics: [
    {
      scope: { name: 's' },
      // AggregationTemporality.DELTA (0) of a sum (DataPointType.SUM, 3) and a histogram (0).
      metrics: [
        { aggregationTemporality: 0, dataPointType: 3, dataPoints: [1, 2] },
        { aggregationTemporality: 0, dataPointType: 0, dataPoints: [3] },
      ],
    },
  ],
} as never;

/** An exporter whose exports end with `result` (never, when undefined), counting them. */
function fakeExporter(result: ExportResult | undefined, lastFailed = false) {
  const exported: unknown[] = [];
  const exporter: ReportingExporter = {
    export: (metrics, done) => {
      exported.push(metrics);
      if (result) done(result);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
    lastFailed,
    ending: () => undefined,
    carries: false,
  };
  return { exporter, exported };
}

function recordingLogger(lines: string[]): Logger {
  const at = (level: string) => (text: unknown) => lines.push(`${level}: ${String(text)}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const refused: ExportResult = { code: 1, error: new Error('connect ECONNREFUSED 10.0.0.9:4318') };

describe('otel: the last push, bounded by a deadline of its own', () => {
  /** The deadline of the exporter that made the last push. */
  async function deadlineFor(lastFailed: boolean, timeoutMs: number): Promise<number> {
    const used: number[] = [];
    const make = async (ms: number): Promise<PushMetricExporter> => ({
      ...fakeExporter({ code: 0 }).exporter,
      export: (_metrics, done) => {
        used.push(ms);
        done({ code: 0 });
      },
    });
    const periodic = fakeExporter({ code: 0 }, lastFailed).exporter;
    const push = await lastPushWithin(periodic, make, TARGET, recordingLogger([]), timeoutMs);
    await push.within(async () => push.exporter.export(BATCH, () => undefined));
    return used[0] ?? Number.NaN;
  }

  it('gives 2 s where the last push got through, 0.5 s where it failed, never over the timeout', async () => {
    expect(await deadlineFor(false, 10_000)).to.equal(LAST_PUSH_DEADLINE_MS);
    expect(await deadlineFor(true, 10_000)).to.equal(LAST_PUSH_OUTAGE_DEADLINE_MS);
    expect(await deadlineFor(false, 300)).to.equal(300);
  });

  it('pushes through the periodic exporter until the stop, through the last one after', async () => {
    const periodic = fakeExporter({ code: 0 });
    const last = fakeExporter({ code: 0 });
    const lines: string[] = [];
    const push = await lastPushWithin(
      periodic.exporter,
      async () => last.exporter,
      TARGET,
      recordingLogger(lines),
      10_000,
    );
    push.exporter.export(BATCH, () => undefined);
    await push.within(async () => push.exporter.export(BATCH, () => undefined));
    expect([periodic.exported.length, last.exported.length]).to.deep.equal([1, 1]);
    expect(lines, 'delivered: nothing to say').to.deep.equal([]);
  });

  it('says in one line what a failed last push dropped, the URL masked', async () => {
    const lines: string[] = [];
    const push = await lastPushWithin(
      fakeExporter(refused, true).exporter,
      async () => fakeExporter(refused).exporter,
      TARGET,
      recordingLogger(lines),
      10_000,
    );
    const results: ExportResult[] = [];
    await push.within(async () => push.exporter.export(BATCH, (r) => results.push(r)));
    expect(results).to.deep.equal([refused]);
    expect(lines).to.deep.equal([
      `warn: could not push the last metrics to ${SHOWN} within 0.5 s: connect ECONNREFUSED 10.0.0.9:4318; dropped 3 data points of 2 metrics (what was counted since the last push that got through)`,
    ]);
  });

  it('never shows a matrix token, a form-encoded password or a password with a tab', async () => {
    for (const target of [
      'http://collector:4318/v1/metrics;token=MATRIX-SECRET-1',
      'http://collector:4318/v1/metrics?password=PART1-SECRET+PART2-SECRET',
      'http://push:TAB-\tSECRET-3@collector:4318/v1/metrics',
    ]) {
      const lines: string[] = [];
      const form = decodeURIComponent(target.replace(/\+/g, ' '));
      const echoed = `401 for ${target} (${new URL(target).href}): ${JSON.stringify({ form })}`;
      const failed: ExportResult = { code: 1, error: new Error(echoed) };
      const push = await lastPushWithin(
        fakeExporter(failed, true).exporter,
        async () => fakeExporter(failed).exporter,
        target,
        recordingLogger(lines),
        10_000,
      );
      await push.within(async () => push.exporter.export(BATCH, () => undefined));
      expect(lines, target).to.have.length(1);
      expect(lines[0], target).to.not.match(/SECRET|PART/);
    }
  });

  it('under delta, says a failed last push dropped what was counted since the previous push', async () => {
    const lines: string[] = [];
    const push = await lastPushWithin(
      fakeExporter(refused, true).exporter,
      async () => fakeExporter(refused).exporter,
      TARGET,
      recordingLogger(lines),
      10_000,
    );
    await push.within(async () => push.exporter.export(DELTA_BATCH, () => undefined));
    expect(lines).to.deep.equal([
      `warn: could not push the last metrics to ${SHOWN} within 0.5 s: connect ECONNREFUSED 10.0.0.9:4318; dropped 3 data points of 2 metrics (what was counted since the previous push)`,
    ]);
  });

  it('under delta, says so where the last push got no answer, from the pushes before it', async () => {
    const lines: string[] = [];
    const push = await lastPushWithin(
      fakeExporter({ code: 0 }).exporter,
      async () => fakeExporter(undefined).exporter,
      TARGET,
      recordingLogger(lines),
      50,
    );
    push.exporter.export(DELTA_BATCH, () => undefined);
    await push.within(
      () => new Promise<void>((resolve) => push.exporter.export(DELTA_BATCH, () => resolve())),
    );
    expect(lines).to.deep.equal([
      `warn: could not push the last metrics to ${SHOWN} within 0.05 s: no answer; dropped what was counted since the previous push`,
    ]);
  });

  it('gives a last push that starts late, behind one under way, its own deadline from its start', async () => {
    const lines: string[] = [];
    // The collector answers each push in 200 ms: within the last push's 300 ms, but past the
    // 550 ms (deadline and grace) since the stop, as the push before it took 400 ms.
    const last = fakeExporter(undefined);
    const slow: PushMetricExporter = {
      ...last.exporter,
      export: (_metrics, done) => {
        setTimeout(() => done({ code: 0 }), 200);
      },
    };
    const push = await lastPushWithin(
      fakeExporter({ code: 0 }).exporter,
      async () => slow,
      TARGET,
      recordingLogger(lines),
      300,
    );
    const results: ExportResult[] = [];
    await push.within(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await new Promise<void>((resolve) =>
        push.exporter.export(BATCH, (r) => {
          results.push(r);
          resolve();
        }),
      );
    });
    // Cut at the stop's deadline, the answer would have come too late to be delivered.
    expect(
      results.map((r) => r.code),
      'delivered',
    ).to.deep.equal([0]);
    expect(lines, 'nothing was dropped').to.deep.equal([]);
  });

  it('still ends a late last push that gets no answer at its own deadline, and says so', async () => {
    const lines: string[] = [];
    const push = await lastPushWithin(
      fakeExporter({ code: 0 }).exporter,
      async () => fakeExporter(undefined).exporter,
      TARGET,
      recordingLogger(lines),
      300,
    );
    // Set as the push starts, 300 ms: due before its deadline (300 ms and 250 of grace from its
    // start) but after the stop's (550 ms from the stop, 150 ms into the push).
    let ownDeadlinePassed = false;
    await push.within(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      setTimeout(() => (ownDeadlinePassed = true), 300);
      await new Promise<void>((resolve) => push.exporter.export(BATCH, () => resolve()));
    });
    expect(ownDeadlinePassed, "ended at its own deadline, not the stop's").to.equal(true);
    expect(lines).to.deep.equal([
      `warn: could not push the last metrics to ${SHOWN} within 0.3 s: no answer; dropped what was counted since the last push that got through`,
    ]);
  });

  it('says nothing of a periodic push that fails once the stop began: the last push follows it', async () => {
    const lines: string[] = [];
    let fail: (result: ExportResult) => void = () => undefined;
    const underWay: PushMetricExporter = {
      ...fakeExporter(undefined).exporter,
      export: (_metrics, done) => {
        fail = done;
      },
    };
    const periodic = reportingFailures(underWay, TARGET, recordingLogger(lines));
    const push = await lastPushWithin(
      periodic,
      async () => fakeExporter(refused).exporter,
      TARGET,
      recordingLogger(lines),
      10_000,
    );
    push.exporter.export(BATCH, () => undefined);
    // The reader awaits the push under way, which fails now, then pushes the last time.
    await push.within(async () => {
      fail(refused);
      push.exporter.export(BATCH, () => undefined);
    });
    expect(lines).to.deep.equal([
      `warn: could not push the last metrics to ${SHOWN} within 2 s: connect ECONNREFUSED 10.0.0.9:4318; dropped 3 data points of 2 metrics (what was counted since the last push that got through)`,
    ]);
  });

  it('ends at the deadline behind a push still under way, says so, and pushes nothing after', async () => {
    const lines: string[] = [];
    const last = fakeExporter({ code: 0 });
    const push = await lastPushWithin(
      fakeExporter(undefined).exporter,
      async () => last.exporter,
      TARGET,
      recordingLogger(lines),
      // The deadline: 50 ms, and 250 ms for the exporter's own timeout to land first.
      50,
    );
    // Due with the deadline and its grace, set first: fired before a wait that took the grace.
    let graceWaited = false;
    setTimeout(() => (graceWaited = true), 50 + 250);
    let release: () => void = () => undefined;
    // The SDK's reader awaits the periodic push under way before it collects the last time.
    await push.within(() => new Promise<void>((resolve) => (release = resolve)));
    expect(graceWaited, "waited the grace for the exporter's own timeout").to.equal(true);
    expect(lines).to.deep.equal([
      `warn: could not push the last metrics to ${SHOWN} within 0.05 s: the push before it was still under way; dropped what was counted since the last push that got through`,
    ]);
    // That push ends at last and the reader exports: too late, nothing goes, nothing more said.
    release();
    const results: ExportResult[] = [];
    push.exporter.export(BATCH, (r) => results.push(r));
    expect(results.map((r) => r.code)).to.deep.equal([1]);
    expect(last.exported).to.deep.equal([]);
    expect(lines).to.have.length(1);
  });
});
