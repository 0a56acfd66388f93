import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { installRouteResolvers } from '../../../src/http/frameworks/index.js';
import { setAttributes, setRoute } from '../../../src/http/index.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import { createTestMetrics, parseSamples } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';
import { steadyCarbonscope } from '../energy/scripted.js';

const COUNT = 'carbonscope_operation_energy_joules_count';

/** Tracks `server`'s requests into local histograms; GETs each path with its x-tenant header. */
async function served(
  server: Server,
  calls: ReadonlyArray<[path: string, tenant: string]>,
): Promise<{ ended: OperationFootprint[]; series: ReturnType<typeof parseSamples> }> {
  const cs = await steadyCarbonscope();
  const metrics = createTestMetrics({ local: true });
  bindMetrics(metrics.meter, cs, { histograms: metrics.histograms });
  const ended: OperationFootprint[] = [];
  cs.onFinish((f) => ended.push(f));
  cs.trackRequests({ servers: [server] });
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const [i, [path, tenant]] of calls.entries()) {
    await (await fetch(`${base}${path}`, { headers: { 'x-tenant': tenant } })).arrayBuffer();
    await waitFor(`request ${i + 1} ended`, () => ended.length > i);
  }
  cs.meter.sampleNow();
  const series = parseSamples(await metrics.scrape()).filter((s) => s.name === COUNT);
  server.close();
  await cs.stop();
  await metrics.shutdown();
  return { ended, series };
}

/** Each series' tenant and count, `-` where it has no tenant label. */
const byTenant = (series: ReturnType<typeof parseSamples>) =>
  Object.fromEntries(
    series.map((s) => [`${s.labels.carbonscope_operation} ${s.labels.app_tenant ?? '-'}`, s.value]),
  );

const CALLS: ReadonlyArray<[string, string]> = [
  ['/work/1', 'acme'],
  ['/work/2', 'acme'],
  ['/work/3', 'zeta'],
  ['/free', 'acme'],
];

describe('http: setAttributes(req, attributes) labels a request energy series', () => {
  before(() => installRouteResolvers());

  it('node:http: the footprint and its series carry them; a request without them has none', async () => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/work/')) {
        setRoute(req, '/work/:n');
        setAttributes(req, { 'app.tenant': String(req.headers['x-tenant']) });
      } else setRoute(req, '/free');
      res.end('ok');
    });
    const { ended, series } = await served(server, CALLS);
    expect(ended.map((f) => f.attributes)).to.deep.equal([
      { 'app.tenant': 'acme' },
      { 'app.tenant': 'acme' },
      { 'app.tenant': 'zeta' },
      undefined,
    ]);
    // One frozen object per distinct set: the series are found by it, nothing hashed.
    expect(ended[0]?.attributes).to.equal(ended[1]?.attributes);
    expect(byTenant(series)).to.deep.equal({
      '/work/:n acme': 2,
      '/work/:n zeta': 1,
      '/free -': 1,
    });
  });

  it("Express 5, Fastify 5 and Koa 3: given Node's request, or the framework's around it", async () => {
    const tenantOf = (headers: Record<string, unknown>) => String(headers['x-tenant']);
    const app = express();
    app.get('/work/:n', (req, res) => {
      setAttributes(req, { 'app.tenant': tenantOf(req.headers) });
      res.send('ok');
    });
    app.get('/free', (_req, res) => res.send('ok'));
    const fastify = Fastify();
    // Fastify's own request: the Node one is its `raw`.
    fastify.get('/work/:n', async (request) => {
      setAttributes(request, { 'app.tenant': tenantOf(request.headers) });
      return 'ok';
    });
    fastify.get('/free', async () => 'ok');
    await fastify.ready();
    const koa = new Koa();
    koa.use(async (ctx) => {
      if (ctx.path.startsWith('/work/')) {
        setRoute(ctx.req, '/work/:n');
        // Koa's ctx: the Node request is its `req`.
        setAttributes(ctx, { 'app.tenant': tenantOf(ctx.headers) });
      } else setRoute(ctx.req, '/free');
      ctx.body = 'ok';
    });
    const servers = {
      express: createServer(app),
      fastify: fastify.server,
      koa: createServer(koa.callback()),
    };
    for (const [name, server] of Object.entries(servers)) {
      const { series } = await served(server, CALLS);
      expect(byTenant(series), name).to.deep.equal({
        '/work/:n acme': 2,
        '/work/:n zeta': 1,
        '/free -': 1,
      });
    }
    await fastify.close();
  });

  it('HTTP/2: on a compat request, and on a core stream, which has no request object', async () => {
    const cs = await steadyCarbonscope();
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    const compat = createHttp2Server((req, res) => {
      setAttributes(req, { 'app.tenant': String(req.headers['x-tenant']) });
      res.end('ok');
    });
    const core = createHttp2Server();
    core.on('stream', (stream, headers) => {
      setAttributes(stream, { 'app.tenant': String(headers['x-tenant']) });
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    cs.trackRequests({ servers: [compat, core] });
    for (const [server, tenant] of [
      [compat, 'acme'],
      [core, 'zeta'],
    ] as const) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const req = session.request({ ':path': '/', 'x-tenant': tenant }, { endStream: true });
      req.resume();
      await once(req, 'close');
      session.close();
      server.close();
    }
    await waitFor('both streams ended', () => ended.length >= 2);
    await cs.stop();
    expect(ended.map((f) => f.attributes)).to.deep.equal([
      { 'app.tenant': 'acme' },
      { 'app.tenant': 'zeta' },
    ]);
  });

  it('refuses a key named for a secret, and a request that is none, with a TypeError', () => {
    expect(() => setAttributes({} as never, { authorization: 'Bearer x' })).to.throw(
      TypeError,
      'setAttributes(): attribute authorization names a secret',
    );
    expect(() => setAttributes(null as never, { tenant: 'a' })).to.throw(
      TypeError,
      'setAttributes(): the request must be an object (got null)',
    );
  });
});
