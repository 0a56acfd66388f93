import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { freePorts } from '../helpers/ports.js';
import { blockWith, PACKAGE_README, readmeBlocks } from '../helpers/readme-blocks.js';
import { type Spawned, spawnUntil } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The application's own NodeSDK, wired as the block's last comment says, with the block's four
 * pieces; `instrumentation` the framework's own, if any.
 */
const sdk = (instrumentation: string) => `import { createRequire } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { CarbonscopeInstrumentation, LocalHistograms, SCOPE, track, withCurrentGauges } from 'carbonscope';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { recordAll, requestHook, tenantContext, tenantEnergy } from './tenant-energy.mjs';

const histograms = new LocalHistograms(sdkMetrics, SCOPE);
const prometheus = new PrometheusExporter({
  host: '127.0.0.1', port: Number(process.env.METRICS_PORT), metricProducers: [histograms],
});
new NodeSDK({
  // Exports one trace in ten, as a service in production might; every span records.
  sampler: recordAll(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) })),
  instrumentations: [
    new HttpInstrumentation({ requestHook }),
    ${instrumentation}
    new CarbonscopeInstrumentation({ histograms }),
  ],
  spanProcessors: [tenantEnergy],
  metricReaders: [withCurrentGauges(sdkMetrics, prometheus)],
}).start();

const require = createRequire(import.meta.url);
const busy = (ms) => { const t = performance.now(); while (performance.now() - t < ms); };
`;

/** Each framework's app: a CPU-bound route, and one that runs a `track()` inside the request. */
const APPS = [
  {
    name: 'Express 5',
    code: `${sdk('new ExpressInstrumentation(),')}
const app = require('express')();
app.use(tenantContext);
app.get('/work/:ms', (req, res) => { busy(Number(req.params.ms)); res.json({}); });
app.get('/nested', async (req, res) => {
  busy(1);
  await track('db', async () => busy(3));
  res.json({});
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('up'));
`,
  },
  {
    name: 'Fastify 5',
    code: `${sdk('')}
const app = require('fastify')();
app.addHook('onRequest', (request, reply, done) => tenantContext(request.raw, reply, done));
app.get('/work/:ms', async (request) => { busy(Number(request.params.ms)); return {}; });
app.get('/nested', async () => {
  busy(1);
  await new Promise((resolve) => setTimeout(resolve, 1)); // a turn of the loop before the track()
  await track('db', async () => busy(3));
  return {};
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log('up');
`,
  },
];

/** The sum of each series of `name` in a scrape, by the value of `label` (or `*` for all). */
function sums(text: string, name: string, label?: string): Map<string, number> {
  const out = new Map<string, number>();
  const line = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels = '', value] of text.matchAll(line)) {
    const key =
      label === undefined ? '*' : (new RegExp(`${label}="([^"]*)"`).exec(labels)?.[1] ?? '');
    out.set(key, (out.get(key) ?? 0) + Number(value));
  }
  return out;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe("the package README's energy-by-tenant block, under NodeSDK", function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  let app: Spawned | undefined;

  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
  });
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const { name, code } of APPS) {
    it(`${name}: counts each tenant's requests and track()s once, and bounds made-up tenants`, async () => {
      // Under dist (ignored, built output): `carbonscope` and the SDK resolve as a user's would.
      const dir = mkdtempSync(join(libraryRoot, 'dist', 'tenant-'));
      dirs.push(dir);
      writeFileSync(
        join(dir, 'tenant-energy.mjs'),
        blockWith(readmeBlocks(PACKAGE_README), 'export const tenantEnergy'),
      );
      writeFileSync(join(dir, 'app.mjs'), code);
      const [port, metricsPort] = (await freePorts(2)) as [number, number];
      app = await spawnUntil(process.execPath, ['app.mjs'], {
        cwd: dir,
        env: childEnv({
          ENERGY_SOURCE: 'estimate',
          CARBON_ZONE: 'DE',
          CARBON_INTENSITY: '300',
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
        }),
        waitFor: /^up$/,
      });
      const get = (path: string, tenant?: string) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          headers: tenant === undefined ? {} : { 'x-tenant': tenant },
        }).then((r) => r.text());
      await get('/work/0'); // no header: `none`, the first tenant seen
      for (let i = 0; i < 20; i++) await get('/work/2', i % 2 ? 'acme' : 'globex');
      // nest's caller sent an unsampled trace: no span of it records under the default sampler.
      for (let i = 0; i < 10; i++) {
        await fetch(`http://127.0.0.1:${port}/nested`, {
          headers: {
            'x-tenant': 'nest',
            traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-00`,
          },
        });
      }
      // A client's made-up tenants (and a baggage header of its own, which must not pass the bound).
      for (let i = 0; i < 120; i++) {
        await fetch(`http://127.0.0.1:${port}/work/0`, {
          headers: { 'x-tenant': `evil-${i}`, baggage: `app.tenant=bag-${i}` },
        });
      }
      // 151 requests and 10 track()s, each settled at a sample after it ended: its histogram
      // point at once, its span ended by carbonscope a moment later (paced).
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      let text = '';
      const agreed = await waitFor(
        'every operation settled, and the tenant counter caught up with it',
        async () => {
          text = await scrape();
          return {
            count: total(sums(text, 'carbonscope_operation_energy_count')),
            operations: total(sums(text, 'carbonscope_operation_energy_sum')),
            tenants: total(sums(text, 'app_tenant_energy_total')),
          };
        },
        {
          timeoutMs: 30_000,
          intervalMs: 200,
          until: ({ count, operations, tenants }) =>
            count === 161 && Math.abs(tenants - operations) <= 1e-9 * operations,
        },
      );
      expect(agreed.operations, 'energy counted').to.be.greaterThan(0);
      const byTenant = sums(text, 'app_tenant_energy_total', 'app_tenant');
      const byOperation = sums(text, 'carbonscope_operation_energy_sum', 'carbonscope_operation');
      // The track()s inside nest's requests are nest's: without the baggage they went to `none`.
      const nested = (byOperation.get('/nested') ?? 0) + (byOperation.get('db') ?? 0);
      expect(byOperation.get('db'), 'the track()s counted').to.be.greaterThan(0);
      expect(byTenant.get('nest'), "nest's: /nested and its db").to.be.closeTo(
        nested,
        1e-9 * nested,
      );
      expect(byTenant.get('none'), 'the one request without a header').to.be.greaterThan(0);
      // 50 tenants at most, then `other`: none, globex, acme, nest and 46 made-up ones; no `bag-`.
      const labels = [...byTenant.keys()];
      expect(labels).to.have.length(51);
      expect(labels).to.include('other');
      expect(labels.filter((l) => l.startsWith('bag-'))).to.deep.equal([]);
    });
  }
});
