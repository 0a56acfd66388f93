import { setTimeout as sleep } from 'node:timers/promises';
import { context, type Span, trace } from '@opentelemetry/api';
import type { BasicTracerProvider, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { SpanRelease } from '../../../src/otel/span-release.js';
import { captureSpan, releaseHeldSpans, SPAN_ATTRIBUTES } from '../../../src/otel/spans.js';
import type { Carbonscope } from '../../../src/runtime/index.js';
import {
  ManualTimer,
  ScriptedClock,
  ScriptedCpu,
  scriptedCarbonscope,
} from '../energy/scripted.js';
import { withInMemoryTracing } from './in-memory-tracing.js';

/** What one settlement ends at once (SpanRelease's AT_ONCE): the spans after it are paced. */
const AT_ONCE = 256;
/** How long after the first of them the paced spans ended: they are due that long after. */
const LATER_MS = 400;

/** A hand-wired Carbonscope with captureSpan, its requests served in spans of `provider`. */
async function instance(provider: BasicTracerProvider, releaseContexts?: () => void) {
  const clock = new ScriptedClock(0);
  const cpu = new ScriptedCpu();
  const cs = await scriptedCarbonscope({
    clock,
    cpu,
    // Each request its share of the interval by its time (the scripted CPU has no threads').
    env: { ENERGY_OPERATION_ATTRIBUTION: 'wall' },
    captureContext: captureSpan,
    releaseContexts,
  });
  await cs.start();
  const serve = (name: string, count: number) => {
    for (let i = 0; i < count; i++) {
      const span = provider.getTracer('test').startSpan(name);
      context.with(trace.setSpan(context.active(), span), () => requestIn(cs, clock, span, name));
    }
  };
  const settle = () => {
    clock.advance(1000);
    cpu.interval(1, 1, 2);
    cs.meter.sampleNow();
  };
  return { cs, serve, settle };
}

/** One request of 0.1 ms in `span`, which "the instrumentation" ends as it answers. */
function requestIn(cs: Carbonscope, clock: ScriptedClock, span: Span, name: string): void {
  const op = cs.begin(name, 'request');
  op.captureContext();
  clock.advance(0.1);
  span.end();
  op.end();
}

const exported = (exporter: InMemorySpanExporter, name: string) =>
  exporter.getFinishedSpans().filter((s) => s.name === name);

/**
 * Two Carbonscopes wired by hand in one process, each with captureSpan: `other` has spans
 * settled and paced (ended LATER_MS after its first ones, so due that long after its sample),
 * then `one`'s requests are settled and `one` stopped; the other's are waited for.
 */
async function oneStoppedBesideAnother(releaseContexts?: () => void) {
  return withInMemoryTracing(async (provider, exporter) => {
    const other = await instance(provider);
    const one = await instance(provider, releaseContexts);
    other.serve('other-first', AT_ONCE);
    await sleep(LATER_MS);
    other.serve('other-paced', 20);
    other.settle();
    one.serve('one', 20);
    one.settle();
    await one.cs.stop();
    const atStop = {
      one: exported(exporter, 'one').length,
      otherPaced: exported(exporter, 'other-paced').length,
    };
    // The other's, ended at their pace, past the places one's left empty.
    for (let waited = 0; waited < 5000 && exported(exporter, 'other-paced').length < 20; )
      waited += await sleep(20, 20);
    const otherPaced = exported(exporter, 'other-paced');
    await other.cs.stop();
    return { atStop, otherPaced };
  });
}

// releaseHeldSpans ended the process's paced spans: a hand-wired instance's stop() ended every
// instance's, another's handed to the SDK before that one's stop() (and its exporter's flush).
describe("a Carbonscope's stop() beside another with captureSpan", () => {
  for (const [what, given] of [
    ['no releaseContexts', undefined],
    ['releaseContexts: releaseHeldSpans', releaseHeldSpans],
  ] as const) {
    it(`ends its own spans alone, with ${what}; the other's at their pace`, async () => {
      const { atStop, otherPaced } = await oneStoppedBesideAnother(given);
      expect(atStop.one, 'its own, at its stop()').to.equal(20);
      expect(atStop.otherPaced, "the other's, still paced").to.equal(0);
      expect(otherPaced).to.have.length(20);
      for (const span of otherPaced) {
        expect(span.attributes[SPAN_ATTRIBUTES.energy]).to.be.a('number').above(0);
      }
    });
  }
});

// The release knows whose settlement paced a span by the runs of its list; the ticks end and
// drop its oldest entries meanwhile, and a run's place must follow them.
describe("SpanRelease: one owner's spans released alone", () => {
  it("after the ticks dropped an owner's run, ends the other owner's alone", async () => {
    const clock = new ScriptedClock(1000);
    const ticks = new ManualTimer();
    const release = new SpanRelease(clock.now, ticks);
    const [x, y] = [{}, {}];
    const ended = { x: 0, y: 0 };
    const spanOf = (who: 'x' | 'y') => ({ end: () => ended[who]++ }) as unknown as Span;
    const settle = async (owner: object, who: 'x' | 'y', count: number, endedMs: number) => {
      release.settlingFor(owner);
      for (let i = 0; i < count; i++) release.end(spanOf(who), 0, endedMs + i);
      release.settlingFor(undefined);
      await Promise.resolve(); // the settlement's run is over
    };
    await settle(x, 'x', AT_ONCE + 100, 0); // 100 paced, due 1,256-1,355
    await settle(y, 'y', 50, 5000); // paced behind them, due from 5,000
    clock.advance(400);
    ticks.fire(); // x's 100 ended and dropped from the list
    expect(ended).to.deep.equal({ x: AT_ONCE + 100, y: 0 });
    await settle(x, 'x', 30, 1400); // paced behind y's, due over the next 30 ms
    release.releaseOwn(y);
    expect(ended, "y's alone").to.deep.equal({ x: AT_ONCE + 100, y: 50 });
    clock.advance(100);
    ticks.fire();
    expect(ended, "x's at their pace").to.deep.equal({ x: AT_ONCE + 130, y: 50 });
  });
});
