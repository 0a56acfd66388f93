import { expect } from 'chai';
import { heldForRetryAfter, MAX_RETRY_AFTER_HOLD_MS } from '../../../src/otel/retry-after-hold.js';
import type {
  ExportResult,
  PushMetricExporter,
  ResourceMetrics,
} from '../../../src/otel/sdk/optional-sdk.js';
import { oneCounterMetrics } from '../../helpers/metrics.js';

// The exporter under it (exportsWithin's) reads the Retry-After off the collector's answer; this
// one answers as told, so that the clock can run past the hold's cap.
describe('otel: heldForRetryAfter', () => {
  it('holds at most MAX_RETRY_AFTER_HOLD_MS, whatever the collector asked, and a success ends it', async () => {
    let now = 1_000_000;
    let sent = 0;
    let answer: ExportResult = { code: 0 };
    const inner = {
      export: (_metrics: ResourceMetrics, done: (result: ExportResult) => void) => {
        sent++;
        done(answer);
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    } as PushMetricExporter;
    const exporter = heldForRetryAfter(inner, () => now);
    const metrics = await oneCounterMetrics();
    const push = () => new Promise<ExportResult>((resolve) => exporter.export(metrics, resolve));
    const error = Object.assign(new Error('Too Many Requests, Retry-After 86400 (HTTP 429)'), {
      code: 429,
      retryAt: now + 86_400_000,
    });
    answer = { code: 1, error };
    await push();
    now += MAX_RETRY_AFTER_HOLD_MS - 1;
    expect((await push()).error).to.equal(error);
    expect(sent, 'held within the cap').to.equal(1);
    now += 1;
    answer = { code: 0 };
    await push();
    expect(sent, 'sent at the cap, a day before the Retry-After').to.equal(2);
    await push();
    expect(sent, 'a success holds nothing').to.equal(3);
  });
});
