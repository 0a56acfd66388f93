import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import type KoaType from 'koa';
import type { OperationFootprint } from '../../src/energy/index.js';
import { captureSpan, SPAN_ATTRIBUTES } from '../../src/otel/spans.js';
import { Carbonscope } from '../../src/runtime/carbonscope.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  testConfig,
} from '../unit/energy/scripted.js';

const require = createRequire(import.meta.url);

/**
 * A real Koa app under the OTel HTTP and Koa instrumentations, as a traced service runs: Node's
 * own request events begin and end the request's operation, the instrumentation starts and ends
 * the server span, and carbonscope's figures must reach that span.
 */
describe('operation figures on spans (Koa, @opentelemetry/instrumentation-http)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  let unregister: () => void;
  let server: Server;
  let cs: Carbonscope;
  const clock = new ScriptedClock(0);
  const cpu = new ScriptedCpu();
  const settled: OperationFootprint[] = [];

  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [new HttpInstrumentation(), new KoaInstrumentation()],
    });
    // Loaded after the instrumentations, as an application loads them after the SDK starts.
    require('node:http');
    const Koa = require('koa') as typeof KoaType;
    const Router = require('@koa/router') as typeof import('@koa/router').default;

    cs = await Carbonscope.create({
      settings: testConfig({ ENERGY_OPERATION_ATTRIBUTION: 'wall' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 250)),
      sources: { host: constantSource(8, { name: 'estimate', component: 'cpu' }), gpus: [] },
      clock: clock.now,
      timer: new ManualTimer(),
      hostCpu: cpu.hostCpu,
      processCpu: cpu.processCpu,
      captureContext: captureSpan,
    });
    cs.onEnd((f) => settled.push(f));
    await cs.start();
    clock.advance(1000);
    cpu.interval(1, 1, 2); // the process is the whole busy host: 8 W
    cs.meter.sampleNow();

    const app = new Koa();
    const router = new Router();
    router.get('/jobs/:id', async (ctx) => {
      clock.advance(30);
      // A job inside the request: its own operation, its own span.
      await cs.track('job', async () => {
        clock.advance(10);
      });
      ctx.body = { id: ctx.params.id };
    });
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cs.trackRequests({ servers: [server] });
  });

  after(async () => {
    server.close();
    await cs.stop();
    unregister();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  const finished = (kind: SpanKind): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.kind === kind);

  it("holds the server span until the request is settled, then ends it with the request's figures", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jobs/7`;
    const res = await fetch(url);
    expect(res.status).to.equal(200);
    await res.arrayBuffer();
    // The instrumentation has ended its server span (on the response's close), but the span
    // waits for the energy: nothing is exported yet.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finished(SpanKind.SERVER)).to.have.length(0);
    const answeredAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));

    clock.advance(60);
    cpu.interval(0.1, 1, 0.2);
    cs.meter.sampleNow();

    const request = settled.find((f) => f.operation === '/jobs/:id');
    const job = settled.find((f) => f.operation === 'job');
    expect(request?.provisional).to.equal(false);
    // 100 ms at 8 W; 40 of them in the request, and 10 of those in the job as well: by time
    // (wall) the two split the job's 10 ms.
    expect(request?.joules).to.be.closeTo(0.8 * (35 / 100), 1e-12);
    expect(job?.joules).to.be.closeTo(0.8 * (5 / 100), 1e-12);

    const [serverSpan] = finished(SpanKind.SERVER);
    expect(serverSpan.attributes[SPAN_ATTRIBUTES.energy]).to.equal(request?.joules);
    expect(serverSpan.attributes[SPAN_ATTRIBUTES.emissions]).to.equal(request?.grams);
    expect(serverSpan.attributes[SPAN_ATTRIBUTES.estimated]).to.equal(true);
    expect(serverSpan.attributes['http.route']).to.equal('/jobs/:id');
    // It ended when the instrumentation ended it, not at the settlement 100 ms later.
    const endedMs = serverSpan.endTime[0] * 1000 + serverSpan.endTime[1] / 1e6;
    expect(endedMs).to.be.below(answeredAt);

    const jobSpan = exporter.getFinishedSpans().find((s) => s.name === 'job');
    expect(jobSpan?.attributes[SPAN_ATTRIBUTES.energy]).to.equal(job?.joules);
    expect(jobSpan?.spanContext().traceId).to.equal(serverSpan.spanContext().traceId);
    // The job's figures never landed on the request's span, nor on the Koa spans.
    for (const span of exporter.getFinishedSpans()) {
      if (span !== serverSpan && span !== jobSpan) {
        expect(span.attributes[SPAN_ATTRIBUTES.energy], span.name).to.equal(undefined);
      }
    }
  });
});
