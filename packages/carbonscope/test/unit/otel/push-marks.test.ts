import { expect } from 'chai';
import { PushMarks } from '../../../src/otel/push-marks.js';
import type {
  ExportResult,
  PushMetricExporter,
  ResourceMetrics,
} from '../../../src/otel/sdk/optional-sdk.js';

type Reader = import('@opentelemetry/sdk-metrics').IMetricReader;

/** An exporter answering each export with `answer()`, and a reader collecting nothing. */
function fixture(answer: () => ExportResult) {
  const inner: PushMetricExporter = {
    export: (_metrics, done) => done(answer()),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const marks = new PushMarks();
  const pushing = marks.pushing(inner);
  const metrics = {} as ResourceMetrics;
  const reader = pushing.watch({
    collect: async () => ({ resourceMetrics: metrics, errors: [] }),
  } as unknown as Reader);
  // One run of a periodic reader: its collection, then its export.
  const push = async () => {
    await reader.collect();
    await new Promise<ExportResult>((resolve) => pushing.exporter.export(metrics, resolve));
  };
  return { marks, push };
}

describe('PushMarks: what an exit without a last push loses', () => {
  it('counts from the collection of the last push that arrived, not before the first', async () => {
    let counted = 0;
    const { marks, push } = fixture(() => ({ code: 0 }));
    marks.markWith(() => {
      const at = counted;
      return () => counted !== at;
    });
    expect(marks.unpushed(), 'no push yet').to.equal(true);
    await push();
    expect(marks.unpushed(), 'right after a push').to.equal(false);
    counted++;
    expect(marks.unpushed(), 'counted since').to.equal(true);
    await push();
    expect(marks.unpushed()).to.equal(false);
  });

  it('a failed push is none: what it collected is still unpushed', async () => {
    let counted = 0;
    let code = 0;
    const { marks, push } = fixture(() => ({
      code,
      error: code ? new Error('refused') : undefined,
    }));
    marks.markWith(() => {
      const at = counted;
      return () => counted !== at;
    });
    await push();
    counted++;
    code = 1;
    await push();
    expect(marks.unpushed(), 'counted before the failed push').to.equal(true);
  });

  it('collections before markWith (the instruments not bound yet) mark nothing', async () => {
    const { marks, push } = fixture(() => ({ code: 0 }));
    await push();
    expect(marks.unpushed()).to.equal(true);
  });
});
