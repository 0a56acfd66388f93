import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { EnergyTracker } from '../../../src/energy/tracker.js';
import { activeSpan, annotateSpan, SPAN_ATTRIBUTES } from '../../../src/otel/spans.js';
import { ScriptedClock, sampleAt } from './scripted.js';

interface Setup {
  clock: ScriptedClock;
  tracker: Feedable;
  ended: OperationFootprint[];
}

/** The tracker, fed samples the way the meter feeds it: (time, process watts, g/J, estimated). */
type Feedable = EnergyTracker & {
  feed(nowMs: number, watts: number, gramsPerJoule: number, estimated: boolean): void;
};

function setup(captureContext?: () => unknown): Setup {
  const clock = new ScriptedClock(0);
  const tracker = new EnergyTracker({ clock: clock.now, captureContext }) as Feedable;
  tracker.feed = (nowMs, watts, gramsPerJoule, estimated) =>
    tracker.update(sampleAt(nowMs, watts, gramsPerJoule, estimated));
  const ended: OperationFootprint[] = [];
  tracker.onEnd((f) => ended.push(f));
  return { clock, tracker, ended };
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('operation tracker', () => {
  it('gives a lone operation power x duration, and its emissions', () => {
    const { clock, tracker } = setup();
    tracker.feed(clock.ms, 2, 1e-4, false);
    const op = tracker.begin('solo');
    clock.advance(1500);
    const f = op.end();
    expect(f).to.include({ operation: 'solo', durationSeconds: 1.5, joules: 3 });
    expect(f.grams).to.be.closeTo(3e-4, 1e-15);
    expect(f.estimated).to.equal(false);
  });

  it('splits the power between overlapping operations', () => {
    const { clock, tracker } = setup();
    tracker.feed(0, 2, 0, true);
    const a = tracker.begin('a');
    clock.advance(5000);
    const b = tracker.begin('b');
    clock.advance(5000);
    const fb = b.end();
    const fa = a.end();
    // a: 5 s alone at 2 W + 5 s shared = 10 + 5; b: 5 J.
    expect(fa.joules).to.equal(15);
    expect(fb.joules).to.equal(5);
    expect(fa.estimated).to.equal(true);
  });

  it('uses each sample interval’s power for the time after that sample', () => {
    const { clock, tracker } = setup();
    tracker.feed(0, 1, 0, false);
    const op = tracker.begin('spanning');
    clock.advance(1000);
    tracker.feed(clock.ms, 3, 0, false);
    clock.advance(500);
    expect(op.end().joules).to.equal(1 + 1.5);
  });

  it('conserves energy: shares add up to the integral over covered time, at any overlap', () => {
    const { clock, tracker } = setup();
    const random = lcg(42);
    let integral = 0; // ∫ P dt over time covered by >= 1 operation, computed independently
    let watts = 0;
    let sum = 0;
    let nextSample = 1000;
    const running: Array<ReturnType<typeof tracker.begin>> = [];
    tracker.feed(0, watts, 0, false);
    for (let step = 0; step < 20_000; step++) {
      const dt = Math.floor(random() * 50);
      // Cross a sample boundary first when the step reaches it.
      if (clock.ms + dt >= nextSample) {
        if (running.length > 0) integral += (watts * (nextSample - clock.ms)) / 1000;
        clock.ms = nextSample;
        watts = random() * 5;
        tracker.feed(clock.ms, watts, 0, false);
        nextSample += 1000;
        continue;
      }
      if (running.length > 0) integral += (watts * dt) / 1000;
      clock.advance(dt);
      if (running.length === 0 || (random() < 0.5 && running.length < 30)) {
        running.push(tracker.begin('op'));
      } else {
        const i = Math.floor(random() * running.length);
        sum += running[i].end().joules;
        running.splice(i, 1);
      }
    }
    for (const op of running) sum += op.end().joules;
    expect(integral).to.be.greaterThan(100);
    expect(sum).to.be.closeTo(integral, integral * 1e-12);
  });

  it('gives nothing for time when no operation runs', () => {
    const { clock, tracker } = setup();
    tracker.feed(0, 10, 0, false);
    clock.advance(5000);
    const op = tracker.begin('late');
    clock.advance(1000);
    expect(op.end().joules).to.equal(10);
  });

  it('ignores a clock that steps back', () => {
    const { clock, tracker } = setup();
    tracker.feed(0, 1, 0, false);
    const op = tracker.begin('x');
    clock.advance(1000);
    tracker.feed(clock.ms, 1, 0, false);
    clock.ms = 500;
    expect(op.end().joules).to.equal(1);
  });

  it('end() is idempotent, can rename the operation, and reports it once', () => {
    const { clock, tracker, ended } = setup();
    tracker.feed(0, 1, 0, false);
    const op = tracker.begin('request');
    clock.advance(100);
    const first = op.end('/things/:id');
    clock.advance(100);
    expect(op.end()).to.equal(first);
    expect(first.operation).to.equal('/things/:id');
    expect(tracker.active).to.equal(0);
    expect(ended.map((f) => f.operation)).to.deep.equal(['/things/:id']);
    expect(ended[0]).to.equal(first);
  });

  it('track() runs sync and async functions, and reports failures too', async () => {
    const { clock, tracker, ended } = setup();
    tracker.feed(0, 4, 0.5, false);
    expect(tracker.track('sync', () => 7)).to.equal(7);
    const value = await tracker.track('async', async () => {
      clock.advance(250);
      return 'done';
    });
    expect(value).to.equal('done');
    expect(() =>
      tracker.track('throws', () => {
        throw new Error('boom');
      }),
    ).to.throw('boom');
    let rejected: unknown;
    await tracker
      .track('rejects', async () => {
        clock.advance(500);
        throw new Error('late boom');
      })
      .catch((err: unknown) => {
        rejected = err;
      });
    expect((rejected as Error).message).to.equal('late boom');
    expect(tracker.active).to.equal(0);
    expect(ended.map((f) => f.operation)).to.deep.equal(['sync', 'async', 'throws', 'rejects']);
    const byName = Object.fromEntries(ended.map((f) => [f.operation, f]));
    expect(byName.async.joules).to.equal(1);
    expect(byName.rejects.grams).to.equal(1);
  });

  it('measure() resolves to the result with its footprint, and rejects after reporting', async () => {
    const { clock, tracker, ended } = setup();
    tracker.feed(0, 2, 0.25, true);
    const { result, footprint } = await tracker.measure('job', async () => {
      clock.advance(1500);
      return 42;
    });
    expect(result).to.equal(42);
    expect(footprint).to.include({ operation: 'job', kind: 'operation', joules: 3, grams: 0.75 });
    expect(footprint.estimated).to.equal(true);
    let failed: unknown;
    await tracker
      .measure('bad', () => {
        throw new Error('nope');
      })
      .catch((err: unknown) => {
        failed = err;
      });
    expect((failed as Error).message).to.equal('nope');
    expect(ended.map((f) => f.operation)).to.deep.equal(['job', 'bad']);
  });

  it('sets energy attributes on the span active when the operation began', async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    try {
      const { clock, tracker } = setup(activeSpan);
      tracker.onEnd(annotateSpan);
      tracker.feed(0, 2, 0.001, true);
      const span = provider.getTracer('test').startSpan('GET /x');
      await context.with(trace.setSpan(context.active(), span), async () => {
        await tracker.track('traced', async () => {
          clock.advance(1000);
        });
      });
      span.end();
      const [finished] = exporter.getFinishedSpans();
      expect(finished.attributes[SPAN_ATTRIBUTES.energy]).to.equal(2);
      expect(finished.attributes[SPAN_ATTRIBUTES.emissions]).to.equal(0.002);
      expect(finished.attributes[SPAN_ATTRIBUTES.estimated]).to.equal(true);
    } finally {
      await provider.shutdown();
      context.disable();
    }
  });
});
