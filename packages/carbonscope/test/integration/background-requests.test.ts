import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { fetchExposition } from '../../src/energy/sources/bounded-fetch.js';
import {
  createExporterSource,
  type ExporterSource,
  type ExporterSpec,
} from '../../src/energy/sources/exporter-source.js';
import { queryPrometheus } from '../../src/energy/sources/prometheus-query.js';
import { createElectricityMapsClient } from '../../src/grid/electricity-maps-client.js';
import { IntensityService } from '../../src/grid/index.js';
import { Carbonscope } from '../../src/runtime/carbonscope.js';
import { untraced } from '../../src/untraced.js';
import {
  constantSource,
  intensityReading,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  scriptedCarbonscope,
  testConfig,
} from '../unit/energy/scripted.js';

/** A loopback server answering every request with `body`, counting them and their traceparents. */
async function loopback(
  type: string,
  body: () => string,
  held: () => Promise<void> = async () => undefined,
): Promise<{ url: string; hits: () => number; traceparents: string[]; server: Server }> {
  let hits = 0;
  const traceparents: string[] = [];
  const listener: RequestListener = async (req, res) => {
    hits++;
    const traceparent = req.headers.traceparent;
    if (traceparent !== undefined) traceparents.push(String(traceparent));
    await held();
    res.setHeader('content-type', type);
    res.end(body());
  };
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, traceparents, server };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads whatever it is given and finds nothing: the reads are what is looked at here. */
const anySpec: ExporterSpec = {
  name: 'kepler',
  wanted: () => true,
  query: () => 'kepler_container_joules_total',
  interpret: () => ({ ok: false, kind: 'missing', reason: 'none' }),
};

/**
 * An application whose own SDK instruments fetch (undici) and http, as NodeSDK with the
 * auto-instrumentations does: carbonscope's reads on its own timers are no part of any of its
 * requests, and were each a root span (one a second at the default sample), the exporter's URL
 * and its `?token=` in `url.full`. What a request asks for stays in the request's trace.
 */
describe("carbonscope's own background requests under the app's fetch instrumentation", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('app');
  const servers: Server[] = [];
  let unregister: () => void;

  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    // The app's propagator, as NodeSDK's default: a background read must not send its header.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [new UndiciInstrumentation(), new HttpInstrumentation()],
    });
  });

  after(async () => {
    unregister();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
    for (const server of servers) server.close();
  });

  beforeEach(() => exporter.reset());

  const clientSpans = (): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
  /** The URLs of the client spans, for a failure that says which requests were traced. */
  const tracedUrls = () => clientSpans().map((s) => s.attributes['url.full']);

  /** Runs `fn` inside an application span, as code started from a request handler does. */
  const inAppSpan = <T>(fn: () => Promise<T>): Promise<T> =>
    tracer.startActiveSpan('GET /app', async (span) => {
      try {
        return await fn();
      } finally {
        span.end();
      }
    });

  const kepler = () => loopback('text/plain', () => '# no series\n');
  const prometheus = () =>
    loopback('application/json', () =>
      JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }),
    );

  for (const [name, serve, read] of [
    [
      "an exporter's /metrics?token=",
      kepler,
      (url: string) => () =>
        fetchExposition(`${url}/metrics?token=KTOK-7`, anySpec.wanted, {
          timeoutMs: 2000,
          maxBytes: 1 << 20,
        }),
    ],
    [
      'a Prometheus query',
      prometheus,
      (url: string) => () =>
        queryPrometheus(url, anySpec.query(), { timeoutMs: 2000, maxBytes: 1 << 20 }),
    ],
  ] as const) {
    // Started from within a request (a meter started lazily), the timer's reads inherited that
    // request's context: each read a child of a request long answered.
    it(`reads ${name} on its timer with no span, started inside an app span or not`, async () => {
      const upstream = await serve();
      servers.push(upstream.server);
      const source: ExporterSource = createExporterSource({
        spec: anySpec,
        read: read(upstream.url),
        where: upstream.url,
        intervalMs: 20,
      });
      try {
        await inAppSpan(() => source.probe());
        await source.refresh();
        await until('five reads', () => upstream.hits() >= 5);
      } finally {
        await source.close();
      }
      expect(tracedUrls()).to.deep.equal([]);
      expect(upstream.traceparents).to.deep.equal([]);
      expect(exporter.getFinishedSpans().map((s) => s.name)).to.deep.equal(['GET /app']);
    });
  }

  const electricityMaps = (held?: () => Promise<void>) =>
    loopback(
      'application/json',
      () =>
        JSON.stringify({ zone: 'DE', carbonIntensity: 300, datetime: new Date().toISOString() }),
      held,
    );
  const gridOn = (url: string) =>
    new IntensityService({
      defaultZone: 'DE',
      client: createElectricityMapsClient({ baseUrl: url, apiKey: 'EMKEY-1', timeoutMs: 2000 }),
      cacheTtlMs: 300_000,
      now: Date.now,
      logger: memoryLogger().logger,
    });

  it('refreshes the grid intensity the meter peeks at every sample with no span', async () => {
    const upstream = await electricityMaps();
    servers.push(upstream.server);
    const grid = gridOn(upstream.url);
    await inAppSpan(async () => {
      grid.peek('DE');
    });
    await until('the lookup', () => upstream.hits() >= 1);
    await until('its answer', () => grid.lastReading('DE')?.source === 'electricity-maps');
    expect(tracedUrls()).to.deep.equal([]);
    expect(upstream.traceparents).to.deep.equal([]);
  });

  it("looks the grid intensity up at the meter's start with no span, even started in a request", async () => {
    const upstream = await electricityMaps();
    servers.push(upstream.server);
    const cs = await scriptedCarbonscope({
      clock: new ScriptedClock(0),
      cpu: new ScriptedCpu(),
      grid: gridOn(upstream.url),
    });
    try {
      await inAppSpan(() => cs.start());
      expect(upstream.hits()).to.equal(1);
    } finally {
      await cs.stop();
    }
    expect(tracedUrls()).to.deep.equal([]);
    expect(upstream.traceparents).to.deep.equal([]);
  });

  // A lookup a request asked for (the service's /carbon_intensity) is part of its answer.
  it("keeps the span of a lookup a request asked for, in that request's trace", async () => {
    const upstream = await electricityMaps();
    servers.push(upstream.server);
    const grid = gridOn(upstream.url);
    const [appSpanId, traceId] = await inAppSpan(async () => {
      await grid.current('DE');
      const active = trace.getActiveSpan()?.spanContext();
      return [active?.spanId, active?.traceId];
    });
    const spans = clientSpans();
    expect(spans).to.have.length(1);
    expect(spans[0]?.parentSpanContext?.spanId).to.equal(appSpanId);
    expect(spans[0]?.spanContext().traceId).to.equal(traceId);
    // The header the background reads must not send: this setup sends it where it should.
    const { spanId } = spans[0]?.spanContext() ?? {};
    expect(upstream.traceparents).to.deep.equal([`00-${traceId}-${spanId}-01`]);
  });

  // One lookup per zone at a time, traced where it started: a request that finds a refresh in
  // flight waits for it and has no span of it (as for an answer from memory); a peek during a
  // request's lookup starts none.
  it("gives a request that joins a refresh's lookup no span of it, nor a peek a request's", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const upstream = await electricityMaps(() => gate);
    servers.push(upstream.server);
    const refreshed = gridOn(upstream.url);
    refreshed.peek('DE');
    await until('the refresh', () => upstream.hits() === 1);
    const joined = inAppSpan(() => refreshed.current('DE'));
    const asked = gridOn(upstream.url);
    const own = inAppSpan(() => asked.current('DE'));
    await until("the request's lookup", () => upstream.hits() === 2);
    asked.peek('DE');
    release();
    expect((await joined).carbonIntensity).to.equal(300);
    expect((await own).carbonIntensity).to.equal(300);
    expect(upstream.hits()).to.equal(2);
    expect(clientSpans()).to.have.length(1);
    expect(upstream.traceparents).to.have.length(1);
  });

  // A meter started from within a request (measure() before any start, on a first request)
  // made its timers there: every sample, and the app's listeners with it, ran in that request's
  // context long after it ended, their fetches children of its span.
  it('samples outside the context of the request that started the meter', async () => {
    const cs = await Carbonscope.create({
      settings: testConfig({ ENERGY_SAMPLE_INTERVAL_MS: '50' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 250)),
      sources: { host: constantSource(8, { name: 'estimate', component: 'cpu' }), gpus: [] },
    });
    const seen: Array<string | undefined> = [];
    cs.onSample(() => {
      seen.push(trace.getActiveSpan()?.spanContext().spanId);
    });
    try {
      await inAppSpan(() => cs.start());
      await until('two samples', () => seen.length >= 2);
    } finally {
      await cs.stop();
    }
    expect(seen.slice(0, 2)).to.deep.equal([undefined, undefined]);
  });

  // The key is spelt out, not imported from @opentelemetry/core: a typo would suppress nothing.
  it("suppresses tracing as @opentelemetry/core's suppressTracing does", () => {
    expect(untraced(() => isTracingSuppressed(context.active()))).to.equal(true);
    expect(untraced(() => trace.getActiveSpan())).to.equal(undefined);
  });
});
