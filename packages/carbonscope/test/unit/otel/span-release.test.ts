import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { monotonicClock } from '../../../src/energy/index.js';
import { SpanRelease } from '../../../src/otel/span-release.js';
import { captureSpan, releaseHeldSpans, SPAN_ATTRIBUTES } from '../../../src/otel/spans.js';
import type { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { blockFor } from '../../helpers/held-loop.js';
import { stepWallClock } from '../../helpers/wall-clock.js';
import {
  ManualTimer,
  ScriptedClock,
  ScriptedCpu,
  scriptedCarbonscope,
} from '../energy/scripted.js';

/** An exporter that answers a few milliseconds later, as one sending over a network does. */
class SlowExporter implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    setTimeout(() => {
      this.spans.push(...spans);
      done({ code: ExportResultCode.SUCCESS });
    }, 3);
  }
  async shutdown(): Promise<void> {}
}

/**
 * A traced service's server spans are held until their requests' energy is settled, so one
 * sample ends a whole interval's spans. Ended at once, a busy interval's spans overflowed the
 * SDK's BatchSpanProcessor (2,048 spans queued by default) and were dropped; released at the
 * pace they ended, they all reach the exporter.
 */
describe('held spans, released at the pace they ended', () => {
  const exporter = new SlowExporter();
  // The SDK's defaults: 2,048 queued, 512 a batch; a short delay only to end the test sooner.
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer('test');
  const clock = new ScriptedClock(0);
  const cpu = new ScriptedCpu();
  let cs: Carbonscope;
  let stopped = false;

  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    cs = await scriptedCarbonscope({
      clock,
      cpu,
      env: { ENERGY_OPERATION_ATTRIBUTION: 'wall' },
      captureContext: captureSpan,
      releaseContexts: releaseHeldSpans,
    });
    await cs.start();
    clock.advance(1000);
    cpu.interval(1, 1, 2);
    cs.meter.sampleNow();
  });

  after(async () => {
    if (!stopped) await cs.stop();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  /** `count` requests over `ms` of real time, each in a server span the "instrumentation" ends. */
  async function serve(count: number, ms: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const span = tracer.startSpan('GET /items/:id', { kind: SpanKind.SERVER });
      context.with(trace.setSpan(context.active(), span), () => {
        const op = cs.begin('GET /items/:id', 'request');
        op.captureContext();
        clock.advance(0.1);
        span.end();
        op.end();
      });
      if (i % 100 === 99) await sleep(ms / (count / 100));
    }
  }

  const servers = () => exporter.spans.filter((s) => s.kind === SpanKind.SERVER);

  /**
   * A span's end less its start (ms). The SDK dates a span's start from Date.now() and reads a
   * number given to end() on the performance clock, shifted by the two clocks' difference at the
   * start; so only the difference is on one clock. A bound on the end time itself, taken from the
   * performance clock, broke when the wall clock stepped while the process ran (9.7 s in one CI
   * run, as a VM resumed).
   */
  const durationMs = (span: ReadableSpan) =>
    (span.endTime[0] - span.startTime[0]) * 1000 + (span.endTime[1] - span.startTime[1]) / 1e6;

  it("exports every span of a busy interval, with its request's figures", async function () {
    this.timeout(20_000);
    const count = 6000;
    const servedFrom = performance.now();
    await serve(count, 600);
    expect(servers(), 'held until settled').to.have.length(0);
    const settledAt = performance.now();
    clock.advance(1000);
    cpu.interval(1, 1, 2);
    cs.meter.sampleNow();
    // Released over about as long as they took to end (600 ms or more), not all at once.
    await provider.forceFlush();
    expect(servers().length, 'ended at the sample').to.be.below(count / 4);
    // They are released over as long as they took to end, which load stretches alike.
    const bound = settledAt - servedFrom + 5000;
    for (let waited = 0; waited < bound && servers().length < count; waited += 100) {
      await sleep(100);
      await provider.forceFlush();
    }
    expect(servers()).to.have.length(count);
    for (const span of servers()) {
      expect(span.attributes[SPAN_ATTRIBUTES.energy]).to.be.a('number').above(0);
      expect(span.attributes[SPAN_ATTRIBUTES.provisional]).to.equal(undefined);
      // Each at the time its "instrumentation" ended it, not when it was handed on: ended at
      // its release, the first spans would have lasted longer than the whole run before it.
      expect(durationMs(span))
        .to.be.at.least(0)
        .and.at.most(settledAt - servedFrom);
    }
  });

  // A process off the CPU (a loaded host, a throttled container) or with its loop blocked runs
  // its release tick late, with every span due meanwhile overdue: ended in that one run, a
  // stall as long as the interval handed the SDK 5,744 spans at once, and it kept 2,560 (its
  // queue of 2,048 and a batch of 512 in flight) of 6,000.
  it('exports every span of a busy interval when its release runs late', async function () {
    this.timeout(20_000);
    exporter.spans.length = 0;
    const count = 6000;
    const servedFrom = performance.now();
    await serve(count, 600);
    const settledAt = performance.now();
    clock.advance(1000);
    cpu.interval(1, 1, 2);
    cs.meter.sampleNow();
    // Every paced span is due by the time the loop runs again.
    blockFor(settledAt - servedFrom + 50);
    for (let waited = 0; waited < 5000 && servers().length < count; waited += 100) {
      await sleep(100);
      await provider.forceFlush();
    }
    expect(servers()).to.have.length(count);
  });

  it('keeps the end times the instrumentation gave when the wall clock steps', async function () {
    this.timeout(20_000);
    exporter.spans.length = 0;
    const count = 300;
    // The wall clock steps 10 s ahead of the performance clock before the spans start (the SDK
    // dates their starts by it), and 10 s more once the instrumentation has ended them: an end
    // read on the wall clock at settlement, rather than the performance-clock time of that
    // end() call, would make each span last 10 s.
    const wall = stepWallClock(10_000);
    try {
      const servedFrom = performance.now();
      await serve(count, 100);
      const settledAt = performance.now();
      wall.set(20_000);
      clock.advance(1000);
      cpu.interval(1, 1, 2);
      cs.meter.sampleNow();
      for (let waited = 0; waited < 5000 && servers().length < count; waited += 50) {
        await sleep(50);
        await provider.forceFlush();
      }
      expect(servers()).to.have.length(count);
      for (const span of servers()) {
        expect(durationMs(span))
          .to.be.at.least(0)
          .and.at.most(settledAt - servedFrom);
      }
    } finally {
      wall.restore();
    }
  });

  it('ends what it still holds back when carbonscope stops, before the SDK shuts down', async function () {
    this.timeout(20_000);
    exporter.spans.length = 0;
    const count = 1500;
    await serve(count, 300);
    clock.advance(1000);
    cpu.interval(1, 1, 2);
    cs.meter.sampleNow();
    await provider.forceFlush();
    expect(servers().length, 'ended at the sample').to.be.below(count);
    await cs.stop();
    stopped = true;
    await provider.forceFlush();
    expect(servers()).to.have.length(count);
  });
});

describe('SpanRelease end times', () => {
  /**
   * A span that records the time each end() was given: shaped as the SDK's (a ReadableSpan's
   * HrTime startTime, end() on its prototype), or as another implementation of the API's Span.
   */
  const recording = (shape: 'sdk' | 'other' = 'sdk') => {
    const times: unknown[] = [];
    const end = (time?: unknown) => times.push(time);
    const span = (
      shape === 'sdk' ? Object.assign(Object.create({ end }), { startTime: [0, 0] }) : { end }
    ) as Span;
    return { span, times };
  };

  it('never hands the SDK a number beyond its performance.now(), which it would read as epoch ms', async () => {
    // A request's end is read on the tracker's clock (performance.now()'s origin, estimated at
    // start-up): a hair ahead of the SDK's own reading must not turn into a date in 1970.
    const release = new SpanRelease();
    const { span, times } = recording();
    const before = performance.now();
    const ahead = before + 5;
    release.end(span, ahead, ahead, true);
    await sleep(0);
    expect(times).to.have.length(1);
    // Held to the SDK's clock as the settlement began: after `before`, short of `ahead`.
    expect(times[0] as number)
      .to.be.at.least(before)
      .and.below(ahead);
  });

  it("gives any other span epoch ms for carbonscope's own reading: Sentry's read 5,000 as seconds", async () => {
    // Sentry 10's spans (its own, behind OTel's API) read a number below 1e10 as seconds since
    // 1970, and so does the end() it sets on each SDK span its startSpan makes (under its
    // openTelemetryBasicTracerProvider): a request that ended 5 s after start-up was given an end
    // in 1970, and its transaction lasted -1.79e12 ms (0 ms on the SDK's spans).
    const release = new SpanRelease();
    const other = recording('other');
    const wrapped = recording('sdk');
    const sdkEnd = wrapped.span.end;
    wrapped.span.end = (time) => sdkEnd.call(wrapped.span, time);
    const before = performance.now();
    release.end(other.span, before, before, true);
    release.end(wrapped.span, before, before, true);
    await sleep(0);
    for (const { times } of [other, wrapped]) {
      expect(times).to.have.length(1);
      expect(times[0] as number).to.be.closeTo(performance.timeOrigin + before, 1);
    }
  });

  it('passes an end time the instrumentation gave as it is: an HrTime, or epoch ms', async () => {
    const release = new SpanRelease();
    const { span, times } = recording();
    const hrTime: [number, number] = [1, 2];
    const epochMs = Date.now();
    release.end(span, hrTime, performance.now());
    release.end(span, epochMs, performance.now());
    await sleep(0);
    expect(times).to.deep.equal([hrTime, epochMs]);
  });

  it('ends every paced span once, in the order it ended, while later settlements add more', async () => {
    // Two settlements of 1,000 spans, each ended over 100 ms, the second while the first is still
    // being paced: the queue is compacted several times on the way.
    const release = new SpanRelease();
    const ended: number[] = [];
    const spanOf = (id: number) =>
      ({ end: (time?: unknown) => ended.push(id, time as number) }) as unknown as Span;
    const settle = (from: number) => {
      const now = monotonicClock();
      for (let i = 0; i < 1000; i++) {
        const endedMs = now - 100 + i / 10;
        release.end(spanOf(from + i), from + i, endedMs);
      }
    };
    settle(0);
    await sleep(60);
    settle(1000);
    // The last is due ~100 ms from now; a loaded machine may run the ticks late.
    for (let waited = 0; ended.length < 4000 && waited < 3000; waited += 20) await sleep(20);
    const ids = ended.filter((_, k) => k % 2 === 0);
    const times = ended.filter((_, k) => k % 2 === 1);
    expect(times).to.deep.equal(ids); // each span got its own time
    expect([...ids].sort((a, b) => a - b)).to.deep.equal([...Array(2000).keys()]);
    const inOrder = (xs: number[]) => xs.every((x, k) => k === 0 || x > xs[k - 1]);
    expect(inOrder(ids.filter((id) => id < 1000))).to.equal(true);
    expect(inOrder(ids.filter((id) => id >= 1000))).to.equal(true);
  });
});

/**
 * A saturated service runs one loop turn in 100-400 ms, and the release's 10 ms tick once a
 * turn. Ending 256 spans a tick whatever its lateness, the release fell behind the spans its
 * settlements handed it (2,700 a second in a service under overload): the paced spans grew
 * for as long as the overload lasted, 12,600 of them after 30 s. Driven here by a scripted clock
 * and scripted ticks: no timing of the machine running the test counts.
 */
describe('held spans on a saturated loop', () => {
  const setUp = () => {
    const clock = new ScriptedClock(0);
    const ticks = new ManualTimer();
    const release = new SpanRelease(clock.now, ticks);
    let ended = 0;
    const span = { end: () => ended++ } as unknown as Span;
    return { release, ticks, clock, span, ended: () => ended };
  };

  /**
   * `perSecond` spans a second for `seconds`, each second's settled at once, then run in loop
   * turns of `turnMs`, one tick in each: the most held, and the most one tick ended.
   */
  async function saturate(perSecond: number, turnMs: number, seconds: number) {
    const t = setUp();
    let handed = 0;
    let mostHeld = 0;
    let mostAtOnce = 0;
    for (let second = 0; second < seconds; second++) {
      // A sample settles the last second's requests: ended evenly over it, handed over at once.
      const settledAt = t.clock.now();
      for (let i = 0; i < perSecond; i++) {
        t.release.end(t.span, 0, settledAt - 1000 + (i * 1000) / perSecond);
      }
      handed += perSecond;
      await Promise.resolve(); // the settlement's run is over
      for (let turn = 0; turn < 1000 / turnMs; turn++) {
        t.clock.advance(turnMs);
        const before = t.ended();
        t.ticks.fire();
        mostAtOnce = Math.max(mostAtOnce, t.ended() - before);
        mostHeld = Math.max(mostHeld, handed - t.ended());
      }
    }
    return { mostHeld, mostAtOnce };
  }

  it('keeps pace with settlements when each tick runs 200 ms late: what it holds stays bounded', async () => {
    const { mostHeld } = await saturate(4000, 200, 20);
    // Before, 256 a tick ended 1,280 of the 4,000 a second: 55,168 held after 20 s.
    expect(mostHeld, 'held at most').to.be.at.most(2 * 4000);
  });

  // More requests in a turn than one tick ends (6,000 a second in 200 ms turns: 1,200), as a
  // service over more than ~1,000 connections has: 1,024 a tick fell behind by 880 a second,
  // 26,223 held after 30 s and growing.
  it('ends what came due in each turn once more than 8,192 wait, however many a turn ends', async () => {
    const { mostHeld, mostAtOnce } = await saturate(6000, 200, 60);
    expect(mostHeld, 'held at most').to.be.at.most(8192 + 6000);
    // What the SDK gets in a turn is what it got with no carbonscope: a turn's requests.
    expect(mostAtOnce, 'most in one tick').to.be.at.most(1200 + 1);
  });

  it('still ends no more than 1,024 in one tick after a stall, so the SDK queue takes them', async () => {
    const t = setUp();
    for (let i = 0; i < 6000; i++) t.release.end(t.span, 0, -600 + i / 10);
    await Promise.resolve();
    const atOnce = t.ended();
    t.clock.advance(5000); // the loop blocked for 5 s: every span is overdue
    t.ticks.fire();
    expect(t.ended() - atOnce).to.equal(1024);
    t.clock.advance(10);
    t.ticks.fire();
    expect(t.ended() - atOnce).to.equal(1024 + 256);
  });
});
