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

/**
 * One instance's settlement runs inside another's: `outer`'s settled listener samples `inner`
 * halfway through `outer`'s paced requests. Both have paced spans (due LATER_MS on); `outer`
 * is stopped first, then `inner`.
 */
async function oneSettledInsideAnother() {
  return withInMemoryTracing(async (provider, exporter) => {
    const outer = await instance(provider);
    const inner = await instance(provider);
    let seen = 0;
    outer.cs.onSettled((figures) => {
      if (figures.operation === 'outer-paced' && ++seen === 10) inner.settle();
    });
    outer.serve('outer-first', AT_ONCE);
    inner.serve('inner-first', 1);
    await sleep(LATER_MS);
    outer.serve('outer-paced', 20);
    inner.serve('inner-paced', 20);
    outer.settle();
    const count = () => ({
      outer: exported(exporter, 'outer-paced').length,
      inner: exported(exporter, 'inner-paced').length,
    });
    const atSettlement = count();
    await outer.cs.stop();
    const atOuterStop = count();
    await inner.cs.stop();
    return { seen, atSettlement, atOuterStop, atInnerStop: count() };
  });
}

describe("a Carbonscope's stop() where its settlement ran inside another's", () => {
  it('ends its own spans, before and after the inner one, and the inner one its own', async () => {
    const { seen, atSettlement, atOuterStop, atInnerStop } = await oneSettledInsideAnother();
    expect(seen, 'the inner settlement ran inside the outer one').to.be.at.least(10);
    expect(atSettlement, 'both paced').to.deep.equal({ outer: 0, inner: 0 });
    expect(atOuterStop, "the outer's alone").to.deep.equal({ outer: 20, inner: 0 });
    expect(atInnerStop, "then the inner's").to.deep.equal({ outer: 20, inner: 20 });
  });
});

type Who = 'x' | 'y';

/** A SpanRelease on a scripted clock and ticks, its spans counted by owner as they end. */
function scriptedRelease() {
  const clock = new ScriptedClock(1000);
  const ticks = new ManualTimer();
  const release = new SpanRelease(clock.now, ticks);
  const owners = { x: {}, y: {} };
  const ended = { x: 0, y: 0 };
  const spanOf = (who: Who) => ({ end: () => ended[who]++ }) as unknown as Span;
  const endEach = (who: Who, count: number, endedMs: number, apartMs = 1) => {
    for (let i = 0; i < count; i++) release.end(spanOf(who), 0, endedMs + i * apartMs);
  };
  /** One settlement of `who`'s: `count` spans, ended from `endedMs` on, `apartMs` apart. */
  const settle = async (who: Who, count: number, endedMs: number, apartMs = 1) => {
    release.settlingFor(owners[who]);
    endEach(who, count, endedMs, apartMs);
    release.settlingFor(undefined);
    await Promise.resolve(); // the settlement's run is over
  };
  return { clock, ticks, release, owners, ended, endEach, settle };
}

/**
 * How many of y's spans each of 5 ticks ends, 10 ms apart: y's settlements and x's in turn
 * (x's only where `stopped`, then released as x's stop() does), every span due at once.
 */
async function yPerTick(stopped: boolean): Promise<number[]> {
  const { clock, ticks, release, owners, ended, settle } = scriptedRelease();
  for (const who of ['y', 'x', 'y', 'x', 'y'] as const) {
    if (who === 'y') await settle('y', 300, clock.now() - 1, 0);
    else if (stopped) await settle('x', 400, clock.now() - 1, 0);
  }
  if (stopped) release.releaseOwn(owners.x);
  const perTick: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = ended.y;
    clock.advance(10);
    ticks.fire();
    perTick.push(ended.y - before);
  }
  return perTick;
}

// The release knows whose settlement paced a span by the runs of its list; the ticks end and
// drop its oldest entries meanwhile, and a run's place must follow them.
describe("SpanRelease: one owner's spans released alone", () => {
  it("after the ticks dropped an owner's run, ends the other owner's alone", async () => {
    const { clock, ticks, release, owners, ended, settle } = scriptedRelease();
    await settle('x', AT_ONCE + 100, 0); // 100 paced, due 1,256-1,355
    await settle('y', 50, 5000); // paced behind them, due from 5,000
    clock.advance(400);
    ticks.fire(); // x's 100 ended and dropped from the list
    expect(ended).to.deep.equal({ x: AT_ONCE + 100, y: 0 });
    await settle('x', 30, 1400); // paced behind y's, due over the next 30 ms
    release.releaseOwn(owners.y);
    expect(ended, "y's alone").to.deep.equal({ x: AT_ONCE + 100, y: 50 });
    clock.advance(100);
    ticks.fire();
    expect(ended, "x's at their pace").to.deep.equal({ x: AT_ONCE + 130, y: 50 });
  });

  // A settlement inside another's (a settled listener sampling another instance) had the rest
  // of the outer one's spans no one's: its owner's stop() left them to their pace.
  it("ends an owner's spans paced after another's settlement ran inside its own", async () => {
    const { release, owners, ended, endEach } = scriptedRelease();
    release.settlingFor(owners.x);
    endEach('x', AT_ONCE + 10, 0); // 10 paced
    release.settlingFor(owners.y);
    endEach('y', 5, 0);
    release.settlingFor(undefined); // y's ends, x's goes on
    endEach('x', 10, 20);
    release.settlingFor(undefined);
    release.releaseOwn(owners.x);
    expect(ended, "x's alone, all of them").to.deep.equal({ x: AT_ONCE + 20, y: 0 });
    release.releaseOwn(owners.y);
    expect(ended, "then y's").to.deep.equal({ x: AT_ONCE + 20, y: 5 });
  });

  // releaseOwn left the stopped owner's places empty, and each tick counted them against the
  // spans it ends: the other owner's were ended slower than with no stopped owner at all.
  it("keeps another owner's pace after one owner's spans were released", async () => {
    const alone = await yPerTick(false);
    expect(alone, '256 a tick (its settlement ended the first 256)').to.deep.equal([
      256, 256, 132, 0, 0,
    ]);
    expect(await yPerTick(true), 'the same, x stopped').to.deep.equal(alone);
  });
});
