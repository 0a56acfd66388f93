import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { freePort } from '../helpers/ports.js';
import {
  prometheusScraping,
  promtoolFindings,
  type ScrapingPrometheus,
} from '../helpers/scrape-check.js';
import { type Spawned, spawnUntil } from '../helpers/spawn.js';
import { lastJson, underRegister } from '../helpers/under-register.js';
import { waitFor } from '../helpers/wait.js';

// A `node --import carbonscope/register` user who wants energy per tenant: one line in each
// handler, setAttributes(req, { 'app.tenant': … }), on Express 5, Fastify 5 and Koa 3 (its
// router) in one process, read by a real Prometheus from register's own endpoint. Before it,
// register's series carried the operation alone, and its only other way in was the operation
// name (setRoute), which every route shares: 512 made-up tenants and the app's own routes were
// `other`.
const APP = `import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import { setAttributes } from 'carbonscope';

// The client picks the header: setAttributes bounds what it becomes.
const tenant = (headers) => ({ 'app.tenant': headers['x-tenant'] ?? '' });
const e = express();
e.get('/e/:n', (req, res) => { setAttributes(req, tenant(req.headers)); res.send('ok'); });
const f = Fastify();
f.get('/f/:n', async (request) => { setAttributes(request, tenant(request.headers)); return 'ok'; });
await f.ready();
const k = new Koa();
const router = new Router();
router.get('/k/:n', (ctx) => { setAttributes(ctx, tenant(ctx.headers)); ctx.body = 'ok'; });
k.use(router.routes());
const servers = [createServer(e), f.server, createServer(k.callback())];
const bases = [];
for (const [i, server] of servers.entries()) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  bases.push('http://127.0.0.1:' + server.address().port + '/' + 'efk'[i] + '/' + i);
}
const get = async (base, tenant) =>
  (await fetch(base, { headers: tenant === undefined ? {} : { 'x-tenant': tenant } })).text();
for (const base of bases) {
  for (let i = 0; i < 3; i++) await get(base, 'acme');
  for (let i = 0; i < 2; i++) await get(base, 'zeta');
  await get(base, undefined);
}
// 120 made-up tenants: 98 more sets fit the bound of 100, the other 22 are \`other\`.
for (let i = 0; i < 120; i++) await get(bases[0], 'made-up-' + i);
console.log('served');
`;

// The same user with an OTel SDK of their own (traces): the request's server span, which gets
// its figures, gets its attributes too.
const TRACED = `import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
const spans = new InMemorySpanExporter();
const sdk = new NodeSDK({
  instrumentations: [new HttpInstrumentation()],
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
sdk.start();
const { setAttributes } = await import('carbonscope');
const { default: express } = await import('express');
const e = express();
e.get('/e/:n', (req, res) => {
  setAttributes(req, { 'app.tenant': req.headers['x-tenant'] });
  res.send('ok');
});
const server = e.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
for (const tenant of ['acme', 'zeta', 'acme']) {
  await (await fetch('http://127.0.0.1:' + server.address().port + '/e/1', { headers: { 'x-tenant': tenant } })).text();
}
const settled = () => spans.getFinishedSpans().filter((s) => s.kind === 1 && 'carbonscope.energy_joules' in s.attributes);
for (let i = 0; i < 200 && settled().length < 3; i++) await new Promise((r) => setTimeout(r, 25));
console.log(JSON.stringify(settled().map((s) => [s.attributes['app.tenant'], typeof s.attributes['carbonscope.energy_joules']])));
server.close();
await sdk.shutdown();
process.exit(0);
`;

interface Series {
  metric: Record<string, string>;
  value: number;
}

describe('register: energy by tenant with setAttributes (Express, Fastify, Koa)', function () {
  this.timeout(90_000);
  let app: Spawned | undefined;
  let prometheus: ScrapingPrometheus | undefined;

  after(async () => {
    await prometheus?.stop();
    await app?.stop();
  });

  it("labels each request's operation series with its tenant, bounded, through Prometheus", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    app = await spawnUntil(
      process.execPath,
      ['--import', join(libraryRoot, 'dist/src/register.js'), '--input-type=module', '-e', APP],
      {
        cwd: libraryRoot,
        env: childEnv({
          ENERGY_SOURCE: 'estimate',
          CARBON_INTENSITY: '300',
          ENERGY_SAMPLE_INTERVAL_MS: '200',
          // By time: every request's energy is above 0, so each tenant's sum says its labels
          // carry energy. Calibrated (the default), a route no calibration window has seen yet
          // is capped to the CPU the calibrated ones leave: /e/:n, calibrated at its first
          // (cold) request, took all of it in 3 of 10 runs here, /f/:n and /k/:n read 0 J.
          ENERGY_OPERATION_ATTRIBUTION: 'wall',
          OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        }),
        waitFor: /^served$/,
        timeoutMs: 60_000,
      },
    );
    prometheus = await prometheusScraping(url);
    const scraped = prometheus;
    const count = 'carbonscope_operation_energy_joules_count';
    // Every request settled and scraped: 3 × 6 on the three routes, 120 more on Express's.
    const series = await waitFor(
      'every request in a scrape Prometheus stored',
      () => scraped.query(`${count}{carbonscope_operation=~"/[efk]/:n"}`),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        until: (s: Series[]) => s.reduce((sum, x) => sum + x.value, 0) === 138,
      },
    );
    const of = (route: string, tenant: string | undefined) =>
      series
        .filter((s) => s.metric.carbonscope_operation === route && s.metric.app_tenant === tenant)
        .reduce((sum, s) => sum + s.value, 0);
    for (const route of ['/e/:n', '/f/:n', '/k/:n']) {
      expect([of(route, 'acme'), of(route, 'zeta'), of(route, undefined)], route).to.deep.equal([
        3, 2, 1,
      ]);
    }
    const tenants = new Set(series.map((s) => s.metric.app_tenant));
    // acme, zeta, 98 made-up ones, `other`, and the requests without a tenant.
    expect(tenants.size).to.equal(102);
    expect(of('/e/:n', 'other')).to.equal(22);
    expect(of('/e/:n', 'made-up-97')).to.equal(1);
    expect(of('/e/:n', 'made-up-98')).to.equal(0);
    // Each route's requests have energy under each tenant's label, and without one.
    const sums = await scraped.query(
      'carbonscope_operation_energy_joules_sum{carbonscope_operation=~"/[efk]/:n",app_tenant=~"acme|zeta|"}',
    );
    expect(sums, JSON.stringify(sums)).to.have.length(9);
    for (const s of sums) expect(s.value, JSON.stringify(s.metric)).to.be.above(0);
    // The energy histograms' sums and the emissions carry the same labels as the counts.
    const acme = await scraped.query(
      'count by (__name__) ({__name__=~"carbonscope_operation_(energy_joules|emissions_grams)_sum",app_tenant="acme"})',
    );
    expect(Object.fromEntries(acme.map((s) => [s.metric.__name__, s.value]))).to.deep.equal({
      carbonscope_operation_energy_joules_sum: 3,
      // Usage and embodied, per route.
      carbonscope_operation_emissions_grams_sum: 6,
    });
    const text = await (await fetch(url)).text();
    expect(promtoolFindings(text)).to.equal('');
    const warnings = app.stderr.filter((l) => l.includes('setAttributes()'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('more than 100 distinct attribute sets');
  });

  it("puts them on the request's server span, beside its figures, under the app's own SDK", async () => {
    const { stdout, stderr } = await underRegister(TRACED, {
      ENERGY_SAMPLE_INTERVAL_MS: '200',
      OTEL_TRACES_EXPORTER: 'none',
    });
    expect(lastJson<string[][]>(stdout), stderr).to.deep.equal([
      ['acme', 'number'],
      ['zeta', 'number'],
      ['acme', 'number'],
    ]);
  });
});
