import { type ProxyTracerProvider, type TracerProvider, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { TracerShutdownWatch } from '../../../src/otel/tracer-shutdown.js';

/** A provider that says when its own shutdown ran, into `calls`. */
function provider(calls: string[], name: string): TracerProvider & { shutdown(): Promise<void> } {
  const own = new BasicTracerProvider();
  return {
    getTracer: (tracer, version) => own.getTracer(tracer, version),
    shutdown: async () => {
      calls.push(`${name} shut down`);
    },
  };
}

describe('TracerShutdownWatch', () => {
  afterEach(() => trace.disable());

  it("runs its function before the registered provider's own shutdown, once a call", async () => {
    const calls: string[] = [];
    const registered = provider(calls, 'sdk');
    trace.setGlobalTracerProvider(registered);
    const watch = new TracerShutdownWatch(() => calls.push('settled'));
    // Looked at per captured span: wrapped once, however many spans.
    for (let i = 0; i < 3; i++) watch.look();
    await registered.shutdown();
    await registered.shutdown();
    expect(calls).to.deep.equal(['settled', 'sdk shut down', 'settled', 'sdk shut down']);
  });

  it('wraps a provider registered later, and the first no second time when it comes back', async () => {
    const calls: string[] = [];
    const first = provider(calls, 'first');
    const second = provider(calls, 'second');
    const watch = new TracerShutdownWatch(() => calls.push('settled'));
    trace.setGlobalTracerProvider(first);
    watch.look();
    trace.disable();
    trace.setGlobalTracerProvider(second);
    watch.look();
    trace.disable();
    trace.setGlobalTracerProvider(first);
    watch.look();
    await first.shutdown();
    await second.shutdown();
    expect(calls).to.deep.equal(['settled', 'first shut down', 'settled', 'second shut down']);
  });

  // Two copies of the package in one process (register's and a dependency's) each hold their
  // own spans and wrap the provider once each: each settles before it shuts down, once a call,
  // however many times each looks (a start, stop and start again looks anew).
  it('two copies: each wraps once, each runs once a call, the provider shuts down once', async () => {
    const calls: string[] = [];
    const registered = provider(calls, 'sdk');
    trace.setGlobalTracerProvider(registered);
    const first = new TracerShutdownWatch(() => calls.push('first copy'));
    const second = new TracerShutdownWatch(() => calls.push('second copy'));
    for (let cycle = 0; cycle < 3; cycle++) {
      first.look();
      second.look();
    }
    await registered.shutdown();
    expect(calls).to.deep.equal(['second copy', 'first copy', 'sdk shut down']);
  });

  it("leaves the API's no-op alone: nothing registered, nothing to wrap", () => {
    const noop = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
    new TracerShutdownWatch(() => undefined).look();
    expect(Object.keys(noop)).to.deep.equal([]);
    expect('shutdown' in noop).to.equal(false);
  });

  it('a frozen provider: no throw, and its shutdown is its own', async () => {
    const calls: string[] = [];
    const frozen = Object.freeze(provider(calls, 'frozen'));
    trace.setGlobalTracerProvider(frozen);
    const watch = new TracerShutdownWatch(() => calls.push('settled'));
    expect(() => watch.look()).not.to.throw();
    await frozen.shutdown();
    expect(calls).to.deep.equal(['frozen shut down']);
  });

  it('a sealed SDK provider (shutdown on its prototype): no throw, and its own', async () => {
    const sealed = Object.seal(new BasicTracerProvider());
    trace.setGlobalTracerProvider(sealed);
    let settled = 0;
    expect(() => new TracerShutdownWatch(() => settled++).look()).not.to.throw();
    expect(Object.hasOwn(sealed, 'shutdown')).to.equal(false);
    await sealed.shutdown();
    expect(settled).to.equal(0);
  });

  it("a function that throws: the provider's own shutdown still runs, and nothing is thrown", async () => {
    const calls: string[] = [];
    const registered = provider(calls, 'sdk');
    trace.setGlobalTracerProvider(registered);
    new TracerShutdownWatch(() => {
      throw new Error("a span processor's onEnd");
    }).look();
    await registered.shutdown();
    expect(calls).to.deep.equal(['sdk shut down']);
  });
});
