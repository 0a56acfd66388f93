import { context, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { captureSpan } from '../../../src/otel/spans.js';
import type { CarbonscopeOptions } from '../../../src/runtime/index.js';
import { ScriptedClock, ScriptedCpu, scriptedCarbonscope } from '../energy/scripted.js';
import { withInMemoryTracing } from './in-memory-tracing.js';

/**
 * Spans one settlement ends: past the 256 a settlement ends at once, so most are paced (see
 * SpanRelease), and fewer than its pace ends in one late tick (1,024) beyond those.
 */
const COUNT = 1500;

/**
 * A Carbonscope wired by hand with captureSpan and `releaseContexts` as given: COUNT operations
 * in a traced request, settled by one sample, then stop(); the spans exported when stop()
 * resolves, before the SDK shuts down (an application that exits after stop(), its SDK's
 * processor exporting as spans end, exports no others).
 */
async function exportedAtStop(
  releaseContexts?: (exporter: InMemorySpanExporter) => CarbonscopeOptions['releaseContexts'],
) {
  return withInMemoryTracing(async (provider, exporter) => {
    const clock = new ScriptedClock(0);
    const cpu = new ScriptedCpu();
    const cs = await scriptedCarbonscope({
      clock,
      cpu,
      captureContext: captureSpan,
      releaseContexts: releaseContexts?.(exporter),
    });
    await cs.start();
    const parent = provider.getTracer('test').startSpan('GET /batch');
    context.with(trace.setSpan(context.active(), parent), () => {
      for (let i = 0; i < COUNT; i++) cs.track('item', () => clock.advance(0.1));
    });
    parent.end();
    clock.advance(1000);
    cpu.interval(1, 1, 2);
    cs.meter.sampleNow();
    const atSample = exporter.getFinishedSpans().length - 1;
    await cs.stop();
    const atStop = exporter.getFinishedSpans().filter((s) => s.name === 'item').length;
    return { atSample, atStop };
  });
}

// captureSpan's spans are paced after their settlement; releaseHeldSpans ends them at once. A
// Carbonscope wired by hand that passed no releaseContexts, or one of its own (its exporter's
// flush), ended them only as the pace came to them, after stop() had resolved: the process's
// exit or the SDK's shutdown (where it could not be watched) found them not ended, and lost.
describe('a Carbonscope wired by hand with captureSpan, at stop()', () => {
  it('ends every span it holds with no releaseContexts given', async () => {
    const { atSample, atStop } = await exportedAtStop();
    expect(atSample, 'paced at the sample').to.be.below(COUNT);
    expect(atStop).to.equal(COUNT);
  });

  // Its own is called once, after the spans are ended: a flush there takes them all.
  it('ends every span it holds with a releaseContexts of its own, then calls that', async () => {
    const released: number[] = [];
    const { atStop } = await exportedAtStop((exporter) => () => {
      released.push(exporter.getFinishedSpans().filter((s) => s.name === 'item').length);
    });
    expect(atStop).to.equal(COUNT);
    expect(released).to.deep.equal([COUNT]);
  });
});
