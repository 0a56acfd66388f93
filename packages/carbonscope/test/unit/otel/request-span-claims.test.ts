import { setTimeout as sleep } from 'node:timers/promises';
import { context, type Span, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import type { LentFigures, OperationContext } from '../../../src/energy/index.js';
import { captureSpan, SPAN_ATTRIBUTES } from '../../../src/otel/spans.js';
import { stepWallClock } from '../../helpers/wall-clock.js';
import { withInMemoryTracing } from './in-memory-tracing.js';

const figures = (joules: number): LentFigures => ({
  operation: 'GET /x',
  kind: 'request',
  estimated: false,
  provisional: false,
  attributes: undefined,
  joules,
  grams: joules / 1000,
  embodiedGrams: 0,
});

/** A request captured where `span` is active, as the tracker captures one. */
const captureIn = (span: Span): OperationContext | undefined =>
  context.with(trace.setSpan(context.active(), span), () => captureSpan('GET /x', 'request'));

function settle(captured: OperationContext | undefined, joules: number): void {
  expect(captured, 'captured').to.not.equal(undefined);
  captured?.settleLent?.(figures(joules));
}

/** What an exporter is given: the SDK's span, with no property of carbonscope's left on it. */
function expectAsExported(span: ReadableSpan | undefined, joules: number): void {
  if (!span) throw new Error('no span exported');
  expect(span.attributes[SPAN_ATTRIBUTES.energy]).to.equal(joules);
  expect(Object.hasOwn(span, 'end'), 'own end left on an exported span').to.equal(false);
  expect(Reflect.ownKeys(span)).to.not.include('end');
}

/** The one span exported, as expectAsExported has it. */
function expectExportedOnce(exporter: InMemorySpanExporter, joules: number): void {
  const spans = exporter.getFinishedSpans();
  expect(spans).to.have.length(1);
  expectAsExported(spans[0], joules);
}

/** Keeps the request running 5 ms, the span's length expectLastedItsTime looks for. */
function runFor5ms(): void {
  const from = performance.now();
  while (performance.now() - from < 5);
}

/** The one span exported lasted the ~5 ms it ran, not 0 ms (a wall-clock step misread). */
function expectLastedItsTime(exporter: InMemorySpanExporter): void {
  const [exported] = exporter.getFinishedSpans();
  const ms =
    (exported.endTime[0] - exported.startTime[0]) * 1000 +
    (exported.endTime[1] - exported.startTime[1]) / 1e6;
  expect(ms).to.be.at.least(4).and.below(1000);
}

/**
 * One request's figures per span (an HTTP/2 batch answered in one span, a server listening
 * inside one): whichever way the span and its first request end, a second request in it is
 * given no context, and the span reaches the exporter once, with the first's figures and as the
 * SDK made it.
 */
describe("otel: a span carries one request's figures", () => {
  it('a span still running when its request settles: a later request in it is not captured', () =>
    withInMemoryTracing(async (provider, exporter) => {
      const span = provider.getTracer('test').startSpan('flush');
      settle(captureIn(span), 3);
      expect(captureIn(span)).to.equal(undefined);
      span.end();
      expect(captureIn(span)).to.equal(undefined);
      expectExportedOnce(exporter, 3);
    }));

  it('a span ended while its request runs: held, not captured again, ended once settled', () =>
    withInMemoryTracing(async (provider, exporter) => {
      const span = provider.getTracer('test').startSpan('GET /x');
      const first = captureIn(span);
      span.end();
      expect(exporter.getFinishedSpans(), 'held until settled').to.have.length(0);
      expect(captureIn(span)).to.equal(undefined);
      settle(first, 5);
      expect(captureIn(span)).to.equal(undefined);
      expectExportedOnce(exporter, 5);
    }));

  // The release gives the SDK's span the time end() was called on its own clock only where the
  // span's end() is its own: handed over with the held end() still on it, the span read as
  // another implementation's and got epoch ms, which the SDK does not correct for a step of the
  // wall clock since its start: a span started after a 10 s step lasted 0 ms.
  it('a span ended while its request runs keeps its duration when the wall clock stepped', () =>
    withInMemoryTracing(async (provider, exporter) => {
      const wall = stepWallClock(10_000);
      try {
        const span = provider.getTracer('test').startSpan('GET /x');
        const first = captureIn(span);
        runFor5ms();
        span.end();
        settle(first, 5);
      } finally {
        wall.restore();
      }
      expectLastedItsTime(exporter);
    }));

  it('a span settled and still paced for its release: not captured again while it waits', () =>
    withInMemoryTracing(async (provider, exporter) => {
      // One settlement ends its first 256 spans at once and paces the rest (SpanRelease).
      const tracer = provider.getTracer('test');
      const spans = Array.from({ length: 300 }, () => tracer.startSpan('GET /x'));
      const captured = spans.map((span) => captureIn(span));
      for (const span of spans) span.end();
      for (const [i, c] of captured.entries()) settle(c, i + 1);
      const last = spans[spans.length - 1];
      expect(last.isRecording(), 'still paced').to.equal(true);
      expect(captureIn(last)).to.equal(undefined);
      for (let waited = 0; waited < 5000 && exporter.getFinishedSpans().length < 300; waited += 10)
        await sleep(10);
      const exported = exporter.getFinishedSpans();
      expect(exported).to.have.length(300);
      expectAsExported(exported[299], 300);
      expect(captureIn(last)).to.equal(undefined);
    }));

  it('a span whose end someone set on it: captured once, that end given epoch ms, kept after', () =>
    withInMemoryTracing(async (provider, exporter) => {
      const span = provider.getTracer('test').startSpan('GET /x');
      const sdkEnd = span.end;
      const given: unknown[] = [];
      const ownEnd = (time?: Parameters<Span['end']>[0]) => {
        given.push(time);
        sdkEnd.call(span, time);
      };
      span.end = ownEnd;
      const first = captureIn(span);
      expect(first, 'an end of its own is not a request holding it').to.not.equal(undefined);
      expect(captureIn(span)).to.equal(undefined);
      span.end();
      settle(first, 7);
      // Another implementation's end() (Sentry's reads a small number as seconds): epoch ms.
      expect(given).to.have.length(1);
      expect(given[0] as number).to.be.closeTo(Date.now(), 1000);
      expect(span.end).to.equal(ownEnd);
      const spans = exporter.getFinishedSpans();
      expect(spans).to.have.length(1);
      expect(spans[0]?.attributes[SPAN_ATTRIBUTES.energy]).to.equal(7);
    }));

  // A second instrumentation that wraps end() after the capture calls the held end() from its
  // own: kept on through the release, the held end() had the release call that wrapper again,
  // a second run of its end, given epoch ms (and the span lasted 0 ms after a wall-clock step).
  it('a span whose end another wrapper replaced after the capture: that wrapper runs once', () =>
    withInMemoryTracing(async (provider, exporter) => {
      const wall = stepWallClock(10_000);
      const calls: unknown[] = [];
      try {
        const span = provider.getTracer('test').startSpan('GET /x');
        const first = captureIn(span);
        const held = span.end;
        span.end = (time?: Parameters<Span['end']>[0]) => {
          calls.push(time);
          held.call(span, time);
        };
        runFor5ms();
        span.end();
        settle(first, 9);
      } finally {
        wall.restore();
      }
      expect(calls).to.deep.equal([undefined]);
      expectExportedOnce(exporter, 9);
      expectLastedItsTime(exporter);
    }));

  // A wrapper set over the held end() while the first request runs hides the claim: a second
  // request in the span was captured too, and its figures overwrote the first's.
  for (const endsFirst of [false, true]) {
    const how = endsFirst ? 'ended before they settle' : 'running still';
    it(`a span another wrapper took over, two requests in it, ${how}: the first's figures`, () =>
      withInMemoryTracing(async (provider, exporter) => {
        const span = provider.getTracer('test').startSpan('flush');
        const first = captureIn(span);
        const held = span.end;
        span.end = (time?: Parameters<Span['end']>[0]) => held.call(span, time);
        const second = captureIn(span);
        if (endsFirst) span.end();
        settle(first, 9);
        if (second) second.settleLent?.(figures(4));
        if (!endsFirst) span.end();
        for (let waited = 0; waited < 1000 && exporter.getFinishedSpans().length < 1; )
          waited += await sleep(10, 10);
        expect(exporter.getFinishedSpans()).to.have.length(1);
        expect(exporter.getFinishedSpans()[0]?.attributes[SPAN_ATTRIBUTES.energy]).to.equal(9);
      }));
  }

  // Asking the weak set never read the span's end(): a recording span of another implementation
  // with none was captured, where reading the mark off its missing end() threw.
  it('a recording span with no end(): captured, no throw', () =>
    withInMemoryTracing(async (provider) => {
      const span = provider.getTracer('test').startSpan('GET /x');
      const bare = Object.create(span, { end: { value: undefined, writable: true } }) as Span;
      const first = captureIn(bare);
      expect(first).to.not.equal(undefined);
      expect(() => first?.settleLent?.(figures(1))).to.not.throw();
      span.end();
    }));
});
