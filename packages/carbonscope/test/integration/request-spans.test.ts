import type { IncomingMessage, RequestListener, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import type ExpressType from 'express';
import type FastifyType from 'fastify';
import type KoaType from 'koa';
import type { LentFigures } from '../../src/energy/index.js';
import { installRouteResolvers } from '../../src/http/frameworks/index.js';
import { setRoute } from '../../src/http/index.js';
import { captureSpan, SPAN_ATTRIBUTES } from '../../src/otel/spans.js';
import type { Carbonscope } from '../../src/runtime/carbonscope.js';
import { stepWallClock } from '../helpers/wall-clock.js';
import { ScriptedClock, ScriptedCpu, scriptedCarbonscope } from '../unit/energy/scripted.js';

const require = createRequire(import.meta.url);

/** What every framework's `/jobs/:id` handler does: its own work, then a job of its own. */
type Handle = (id: string) => Promise<{ id: string }>;

interface Served {
  server: Server;
  close(): Promise<void>;
}

interface Framework {
  name: string;
  /**
   * Whether the server span names the route (`http.route`): an OTel instrumentation for the
   * framework does; without one (Fastify under the auto-instrumentations, plain http) the HTTP
   * instrumentation alone knows no route.
   */
  routeOnSpan: boolean;
  /** The route template the request is named by: `/jobs/:id` unless the framework says so. */
  route?: string;
  /** Serves GET /jobs/:id with `handle` on loopback; called after the instrumentations load. */
  serve(handle: Handle): Promise<Served>;
}

/** A `node:http` server of `listener` on loopback, `node:http` loaded as late as the framework. */
async function listening(listener: RequestListener): Promise<Served> {
  const http = require('node:http') as typeof import('node:http');
  const server = http.createServer(listener);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// Each framework is required inside serve(), after the instrumentations are registered, as an
// application loads it after its SDK starts.
const FRAMEWORKS: Framework[] = [
  {
    name: 'Koa 3 with @koa/router',
    routeOnSpan: true,
    serve(handle) {
      const Koa = require('koa') as typeof KoaType;
      const Router = require('@koa/router') as typeof import('@koa/router').default;
      const app = new Koa();
      const router = new Router();
      router.get('/jobs/:id', async (ctx) => {
        ctx.body = await handle(ctx.params.id);
      });
      app.use(router.routes());
      return listening(app.callback());
    },
  },
  {
    name: 'Express 5',
    routeOnSpan: true,
    serve(handle) {
      const express = require('express') as typeof ExpressType;
      const app = express();
      const jobs = express.Router();
      jobs.get('/:id', async (req, res) => {
        res.json(await handle(req.params.id));
      });
      app.use('/jobs', jobs);
      return listening(app);
    },
  },
  {
    name: 'Fastify 5',
    routeOnSpan: false,
    async serve(handle) {
      const Fastify = require('fastify') as typeof FastifyType;
      const app = Fastify();
      app.get<{ Params: { id: string } }>('/jobs/:id', (request) => handle(request.params.id));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { server: app.server, close: () => app.close() };
    },
  },
  {
    name: 'Express 4',
    // The express instrumentation patches the package named `express`, not this alias.
    routeOnSpan: false,
    serve(handle) {
      const express = require('express4') as typeof ExpressType;
      const app = express();
      app.get('/jobs/:id', (req, res, next) => {
        handle(req.params.id).then((body) => res.json(body), next);
      });
      return listening(app);
    },
  },
  {
    name: 'Fastify 4',
    routeOnSpan: false,
    async serve(handle) {
      // As register and the instrumentation do as they load, before the app builds its instance.
      installRouteResolvers();
      const Fastify = require('fastify4') as typeof FastifyType;
      const app = Fastify();
      app.get<{ Params: { id: string } }>('/jobs/:id', (request) => handle(request.params.id));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { server: app.server, close: () => app.close() };
    },
  },
  {
    name: 'hapi',
    route: '/jobs/{id}',
    routeOnSpan: false,
    async serve(handle) {
      installRouteResolvers();
      const Hapi = require('@hapi/hapi') as typeof import('@hapi/hapi');
      const server = Hapi.server({ port: 0, host: '127.0.0.1' });
      server.route({
        method: 'GET',
        path: '/jobs/{id}',
        handler: (request) => handle(String(request.params.id)),
      });
      await server.start();
      return { server: server.listener, close: () => server.stop() };
    },
  },
  {
    name: 'Hono on @hono/node-server',
    routeOnSpan: false,
    async serve(handle) {
      const { Hono } = await import('hono');
      const { serve } = await import('@hono/node-server');
      const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
      app.get('/jobs/:id', async (c) => {
        // The README's naming middleware, cut to this one route.
        setRoute(c.env.incoming, '/jobs/:id');
        return c.json(await handle(c.req.param('id')));
      });
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
          resolve(s as Server),
        );
      });
      return { server, close: () => new Promise((resolve) => server.close(() => resolve())) };
    },
  },
  {
    name: 'plain node:http',
    routeOnSpan: false,
    serve(handle) {
      return listening(async (req, res) => {
        const id = /^\/jobs\/([^/]+)$/.exec(req.url ?? '')?.[1];
        if (id === undefined) {
          res.statusCode = 404;
          res.end();
          return;
        }
        setRoute(req, '/jobs/:id');
        const body = await handle(id);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      });
    },
  },
];

/**
 * Real servers of each framework under the OTel HTTP instrumentation (and the framework's own
 * where the auto-instrumentations have one), as a traced service runs: Node's own request events
 * begin and end the request's operation, the instrumentation starts and ends the server span,
 * and carbonscope's figures must reach that span, whatever ends the response.
 */
describe('operation figures on spans (@opentelemetry/instrumentation-http, every framework)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  let unregister: () => void;

  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [
        new HttpInstrumentation(),
        new KoaInstrumentation(),
        new ExpressInstrumentation(),
      ],
    });
  });

  after(async () => {
    unregister();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  const finished = (kind: SpanKind): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.kind === kind);

  // Read by an onEnd listener, each request has a footprint built, which its span is given; by
  // onSettled's alone, none is, and its span is set from the lent figures (settleLent).
  const listeners = ['onEnd', 'onSettled'] as const;
  for (const [framework, via] of FRAMEWORKS.flatMap((f) => listeners.map((l) => [f, l] as const))) {
    describe(`${framework.name}, figures read by ${via}`, () => {
      let served: Served;
      let cs: Carbonscope;
      const clock = new ScriptedClock(0);
      const cpu = new ScriptedCpu();
      const settled: LentFigures[] = [];

      before(async () => {
        exporter.reset();
        cs = await scriptedCarbonscope({
          clock,
          cpu,
          env: { ENERGY_OPERATION_ATTRIBUTION: 'wall' },
          captureContext: captureSpan,
        });
        if (via === 'onEnd') cs.onEnd((f) => settled.push(f));
        else cs.onSettled((f) => settled.push({ ...f })); // lent for the call: copied
        await cs.start();
        clock.advance(1000);
        cpu.interval(1, 1, 2); // the process is the whole busy host: 8 W
        cs.meter.sampleNow();

        served = await framework.serve(async (id) => {
          clock.advance(30);
          // A job inside the request: its own operation, its own span.
          await cs.track('job', async () => {
            clock.advance(10);
          });
          return { id };
        });
        cs.trackRequests({ servers: [served.server] });
      });

      after(async () => {
        await served.close();
        await cs.stop();
      });

      it("holds the server span until the request is settled, then ends it with the request's figures", async () => {
        const url = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}/jobs/7`;
        const sentAt = performance.now();
        const res = await fetch(url);
        expect(res.status).to.equal(200);
        expect(await res.json()).to.deep.equal({ id: '7' });
        // The wall clock steps back 10 s while the span is held (a VM resuming, NTP): the
        // span's times must not move with it.
        const wall = stepWallClock(-10_000);
        let answeredAt: number;
        try {
          // The instrumentation has ended its server span (on the response's close), but the
          // span waits for the energy: nothing is exported yet.
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(finished(SpanKind.SERVER)).to.have.length(0);
          answeredAt = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 100));
          clock.advance(60);
          cpu.interval(0.1, 1, 0.2);
          cs.meter.sampleNow();
        } finally {
          wall.restore();
        }

        const route = framework.route ?? '/jobs/:id';
        const request = settled.find((f) => f.operation === route);
        const job = settled.find((f) => f.operation === 'job');
        expect(request?.provisional).to.equal(false);
        // 100 ms at 8 W; 40 of them in the request, and 10 of those in the job as well: by
        // time (wall) the two split the job's 10 ms.
        expect(request?.joules).to.be.closeTo(0.8 * (35 / 100), 1e-12);
        expect(job?.joules).to.be.closeTo(0.8 * (5 / 100), 1e-12);

        const servers = finished(SpanKind.SERVER);
        expect(servers).to.have.length(1);
        const [serverSpan] = servers;
        expect(serverSpan.attributes[SPAN_ATTRIBUTES.energy]).to.equal(request?.joules);
        expect(serverSpan.attributes[SPAN_ATTRIBUTES.emissions]).to.equal(request?.grams);
        expect(serverSpan.attributes[SPAN_ATTRIBUTES.embodied]).to.equal(request?.embodiedGrams);
        expect(serverSpan.attributes[SPAN_ATTRIBUTES.estimated]).to.equal(true);
        if (framework.routeOnSpan) {
          expect(serverSpan.attributes['http.route']).to.equal(route);
        }
        // It ended when the instrumentation ended it, not at the settlement 100 ms later. Bounded
        // by its duration, end less start, which the SDK keeps on the performance clock: its end
        // alone is dated from the wall clock at its start. Both ways: an end read from the wall
        // clock at settlement, after the step back, would come before the start, which the SDK
        // turns into a duration of exactly 0.
        const ms = ([seconds, nanos]: readonly [number, number]) => seconds * 1000 + nanos / 1e6;
        const spanMs = ms(serverSpan.endTime) - ms(serverSpan.startTime);
        expect(spanMs)
          .to.be.above(0)
          .and.below(answeredAt - sentAt);

        const jobSpans = exporter.getFinishedSpans().filter((s) => s.name === 'job');
        expect(jobSpans).to.have.length(1);
        const [jobSpan] = jobSpans;
        expect(jobSpan.attributes[SPAN_ATTRIBUTES.energy]).to.equal(job?.joules);
        expect(jobSpan.attributes[SPAN_ATTRIBUTES.emissions]).to.equal(job?.grams);
        expect(jobSpan.spanContext().traceId).to.equal(serverSpan.spanContext().traceId);
        // The job's figures never landed on the request's span, nor on the framework's spans.
        for (const span of exporter.getFinishedSpans()) {
          if (span !== serverSpan && span !== jobSpan) {
            expect(span.attributes[SPAN_ATTRIBUTES.energy], span.name).to.equal(undefined);
          }
        }
      });
    });
  }
});
