import { context, type Span, type SpanStatus, SpanStatusCode, trace } from '@opentelemetry/api';
import { expect } from 'chai';
import { redactionList } from '../../../src/log.js';
import { markFailed } from '../../../src/otel/span-failure.js';
import { captureSpan, contextPropagates, releaseHeldSpans } from '../../../src/otel/spans.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  StubGrid,
  testConfig,
} from '../energy/scripted.js';
import { withInMemoryTracing } from './in-memory-tracing.js';

/** A span that keeps what it was told. */
function recordingSpan() {
  const told: { status?: SpanStatus; attributes: Record<string, unknown> } = { attributes: {} };
  const span = {
    setAttribute(key: string, value: unknown) {
      told.attributes[key] = value;
      return span;
    },
    setStatus(status: SpanStatus) {
      told.status = status;
      return span;
    },
  } as unknown as Span;
  return { span, told };
}

const KEY = 'code-KEY-71c0ffee';
const HEADER = 'tok-HEADER-9f8e7d';

describe("otel: a failed operation's span masks the secrets carbonscope knows", () => {
  it("writes the grid's key and an OTLP header's value [redacted] in the status description", async () => {
    await withInMemoryTracing(async (provider, exporter) => {
      const cs = await Carbonscope.create({
        // The key given in code, the header in the environment: both are the library's to know.
        settings: { ...testConfig(), grid: { ...testConfig().grid, apiKey: KEY } },
        env: { OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${HEADER}` },
        grid: new StubGrid(intensityReading('DE', 300)),
        sources: { host: constantSource(5), gpus: [] },
        timer: new ManualTimer(),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        captureContext: captureSpan,
        contextActive: contextPropagates,
        releaseContexts: releaseHeldSpans,
      });
      const echo = `upstream said: key ${KEY} refused, sent Bearer ${HEADER}`;
      const parent = provider.getTracer('test').startSpan('job');
      await context.with(trace.setSpan(context.active(), parent), async () => {
        expect(() =>
          cs.track('sync', () => {
            throw new Error(echo);
          }),
        ).to.throw(echo);
        const failed = cs.measure('measured', async () => {
          throw new Error(echo);
        });
        expect(await failed.catch((err: Error) => err.message)).to.equal(echo);
      });
      parent.end();
      await cs.stop();
      const spans = exporter.getFinishedSpans().filter((span) => span.name !== 'job');
      expect(spans.map((span) => span.name).sort()).to.deep.equal(['measured', 'sync']);
      for (const span of spans) {
        expect(span.status).to.deep.equal({
          code: SpanStatusCode.ERROR,
          // The header's value as written (`Bearer <token>`) is one of its forms: masked whole.
          message: 'upstream said: key [redacted] refused, sent [redacted]',
        });
      }
    });
  });

  it('leaves out the half of a secret that the read of a long message split', () => {
    // A token of 120 characters, eight times over, then a ninth the 1,024-character read splits:
    // the eight are masked (80 characters), so the split one's first 64 would be in the 256 shown.
    const token = `tok-${'a1b2c3d4'.repeat(14)}-${'Z'.repeat(3)}`;
    expect(token).to.have.length(120);
    const message = `${token.repeat(9)} and more`;
    const { span, told } = recordingSpan();
    markFailed(span, new Error(message), redactionList([token]));
    expect(told.status?.code).to.equal(SpanStatusCode.ERROR);
    expect(told.status?.message).to.equal(`${'[redacted]'.repeat(8)}…`);
  });
});
