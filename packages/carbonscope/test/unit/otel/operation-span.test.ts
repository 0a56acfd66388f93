import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Span } from '@opentelemetry/api';
import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { OperationSpan } from '../../../src/otel/operation-span.js';
import { SpanRelease } from '../../../src/otel/span-release.js';

/** A span of another implementation than the SDK's: records its attributes and end times. */
function otherSpan() {
  const times: unknown[] = [];
  const attributes: Record<string, unknown> = {};
  const span = {
    end: (time?: unknown) => times.push(time),
    setAttribute: (key: string, value: unknown) => {
      attributes[key] = value;
    },
  } as unknown as Span;
  return { span, times, attributes };
}

const footprint = (durationSeconds: number) =>
  ({
    joules: 0.5,
    grams: 0.01,
    embodiedGrams: 0.02,
    estimated: true,
    durationSeconds,
  }) as OperationFootprint;

describe("otel: an operation's own span (track(), measure())", () => {
  it("ends a span of another implementation at epoch ms: Sentry's read performance time as seconds", async () => {
    // Under Sentry 10 a track() inside a request gets a span of Sentry's, whose end() reads a
    // number below 1e10 as seconds since 1970: given the performance-clock time it ended in 1970.
    const { span, times, attributes } = otherSpan();
    const started = performance.now();
    const op = new OperationSpan(span, new SpanRelease());
    op.settle(footprint(0));
    await sleep(0);
    expect(attributes['carbonscope.energy_joules']).to.equal(0.5);
    expect(times).to.have.length(1);
    expect(times[0] as number)
      .to.be.at.least(performance.timeOrigin + started - 1)
      .and.at.most(performance.timeOrigin + performance.now());
  });
});
