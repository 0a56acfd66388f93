import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { createEnergyInstruments } from '../../../src/energy/instruments.js';
import {
  EnergyTracker,
  MAX_OPERATION_LABELS,
  SPAN_ATTRIBUTES,
} from '../../../src/energy/tracker.js';
import { createTestMetrics, type TestMetrics } from '../../helpers/metrics.js';
import { ScriptedClock } from './scripted.js';

function setup(): { clock: ScriptedClock; tracker: EnergyTracker; metrics: TestMetrics } {
  const clock = new ScriptedClock(0);
  const metrics = createTestMetrics();
  const instruments = createEnergyInstruments(metrics.meter);
  const tracker = new EnergyTracker({
    clock: clock.now,
    energyHistogram: instruments.operationEnergy,
    emissionsHistogram: instruments.operationEmissions,
  });
  return { clock, tracker, metrics };
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
    tracker.update(clock.ms, 2, 1e-4, false);
    const op = tracker.begin('solo');
    clock.advance(1500);
    const f = op.end();
    expect(f).to.include({ operation: 'solo', durationSeconds: 1.5, energyJoules: 3 });
    expect(f.emissionsGrams).to.be.closeTo(3e-4, 1e-15);
    expect(f.estimated).to.equal(false);
  });

  it('splits the power between overlapping operations', () => {
    const { clock, tracker } = setup();
    tracker.update(0, 2, 0, true);
    const a = tracker.begin('a');
    clock.advance(5000);
    const b = tracker.begin('b');
    clock.advance(5000);
    const fb = b.end();
    const fa = a.end();
    // a: 5 s alone at 2 W + 5 s shared = 10 + 5; b: 5 J.
    expect(fa.energyJoules).to.equal(15);
    expect(fb.energyJoules).to.equal(5);
    expect(fa.estimated).to.equal(true);
  });

  it('uses each sample interval’s power for the time after that sample', () => {
    const { clock, tracker } = setup();
    tracker.update(0, 1, 0, false);
    const op = tracker.begin('spanning');
    clock.advance(1000);
    tracker.update(clock.ms, 3, 0, false);
    clock.advance(500);
    expect(op.end().energyJoules).to.equal(1 + 1.5);
  });

  it('conserves energy: shares add up to the integral over covered time, at any overlap', () => {
    const { clock, tracker } = setup();
    const random = lcg(42);
    let integral = 0; // ∫ P dt over time covered by >= 1 operation, computed independently
    let watts = 0;
    let sum = 0;
    let nextSample = 1000;
    const running: Array<ReturnType<typeof tracker.begin>> = [];
    tracker.update(0, watts, 0, false);
    for (let step = 0; step < 20_000; step++) {
      const dt = Math.floor(random() * 50);
      // Cross a sample boundary first when the step reaches it.
      if (clock.ms + dt >= nextSample) {
        if (running.length > 0) integral += (watts * (nextSample - clock.ms)) / 1000;
        clock.ms = nextSample;
        watts = random() * 5;
        tracker.update(clock.ms, watts, 0, false);
        nextSample += 1000;
        continue;
      }
      if (running.length > 0) integral += (watts * dt) / 1000;
      clock.advance(dt);
      if (running.length === 0 || (random() < 0.5 && running.length < 30)) {
        running.push(tracker.begin('op'));
      } else {
        const i = Math.floor(random() * running.length);
        sum += running[i].end().energyJoules;
        running.splice(i, 1);
      }
    }
    for (const op of running) sum += op.end().energyJoules;
    expect(integral).to.be.greaterThan(100);
    expect(sum).to.be.closeTo(integral, integral * 1e-12);
  });

  it('gives nothing for time when no operation runs', () => {
    const { clock, tracker } = setup();
    tracker.update(0, 10, 0, false);
    clock.advance(5000);
    const op = tracker.begin('late');
    clock.advance(1000);
    expect(op.end().energyJoules).to.equal(10);
  });

  it('ignores a clock that steps back', () => {
    const { clock, tracker } = setup();
    tracker.update(0, 1, 0, false);
    const op = tracker.begin('x');
    clock.advance(1000);
    tracker.update(clock.ms, 1, 0, false);
    clock.ms = 500;
    expect(op.end().energyJoules).to.equal(1);
  });

  it('keeps the operation label bounded however many names it is given (real SDK reader)', async () => {
    const { clock, tracker, metrics } = setup();
    try {
      tracker.update(clock.ms, 1, 1e-4, false);
      for (let i = 0; i < 1000; i++) {
        const op = tracker.begin(`user-${i}-${'y'.repeat(i % 200)}`);
        clock.advance(1);
        expect(op.end().operation, 'the caller still gets its own name').to.match(/^user-/);
      }
      const operations = new Set(
        [
          ...(await metrics.scrape()).matchAll(
            /operation_energy_joules_count\{operation="([^"]*)"/g,
          ),
        ].map((m) => m[1]),
      );
      expect(operations.size).to.equal(MAX_OPERATION_LABELS + 1);
      expect(operations).to.include('other');
    } finally {
      await metrics.shutdown();
    }
  });

  it('end() is idempotent and can rename the operation', async () => {
    const { clock, tracker, metrics } = setup();
    tracker.update(0, 1, 0, false);
    const op = tracker.begin('request');
    clock.advance(100);
    const first = op.end('/things/:id');
    clock.advance(100);
    expect(op.end()).to.equal(first);
    expect(first.operation).to.equal('/things/:id');
    expect(tracker.active).to.equal(0);
    expect(
      await metrics.value('operation_energy_joules_count', { operation: '/things/:id' }),
    ).to.equal(1);
    expect(await metrics.value('operation_energy_joules_count', { operation: 'request' })).to.equal(
      undefined,
    );
    await metrics.shutdown();
  });

  it('track() runs sync and async functions, and records failures too', async () => {
    const { clock, tracker, metrics } = setup();
    tracker.update(0, 4, 0.5, false);
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
    for (const operation of ['sync', 'async', 'throws', 'rejects']) {
      expect(await metrics.value('operation_energy_joules_count', { operation })).to.equal(1);
    }
    expect(await metrics.value('operation_energy_joules_sum', { operation: 'async' })).to.equal(1);
    expect(await metrics.value('operation_emissions_grams_sum', { operation: 'rejects' })).to.equal(
      1,
    );
    await metrics.shutdown();
  });

  it('sets energy attributes on the span active when the operation began', async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    try {
      const { clock, tracker } = setup();
      tracker.update(0, 2, 0.001, true);
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
