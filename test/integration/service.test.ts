import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { findSample, parseLabels } from '../helpers/metrics.js';
import { freePort, runToExit, type SpawnedServer, spawnServer } from '../helpers/spawn-server.js';

async function get(url: string): Promise<Response> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res;
}

function endpointValues(exposition: string): Set<string> {
  const values = new Set<string>();
  for (const line of exposition.split('\n')) {
    const m = /^requests_total\{(.*)\}/.exec(line);
    if (m) values.add(parseLabels(m[1]).endpoint);
  }
  return values;
}

describe('service (spawned, real HTTP)', function () {
  this.timeout(60_000);
  let server: SpawnedServer;

  before(async () => {
    server = await spawnServer({ OTEL_TRACES_EXPORTER: 'none' });
  });
  after(async () => {
    await server?.stop();
  });

  it('answers health and readiness', async () => {
    expect((await get(`${server.url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect([200, 503]).to.include(ready.status);
    expect(await ready.json()).to.have.property('ready');
  });

  it('answers unknown paths with 404 JSON {error, message}', async () => {
    const res = await fetch(`${server.url}/no/such/page`);
    expect(res.status).to.equal(404);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).to.have.keys('error', 'message');
    expect(body.message).to.include('/no/such/page');
  });

  it('lists both HTTP instruments with their labels, accepted by promtool', async () => {
    for (let i = 0; i < 3; i++) await get(`${server.url}/healthz`);
    await get(`${server.url}/nope`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(
      findSample(text, 'requests_total', { endpoint: '/healthz', status: '200' }),
    ).to.be.at.least(3);
    expect(
      findSample(text, 'requests_total', { endpoint: 'unmatched', status: '404' }),
    ).to.be.at.least(1);
    expect(text).to.match(/^# TYPE request_latency_seconds histogram$/m);
    for (const le of ['0.005', '0.075', '2.5', '10', '+Inf']) {
      expect(
        findSample(text, 'request_latency_seconds_bucket', { endpoint: '/healthz', le }),
        `bucket le=${le}`,
      ).to.be.a('number');
    }
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    writeFileSync(join(dir, 'metrics.txt'), text);
    // promtool reads the exposition from stdin and exits non-zero on a format error; lint
    // findings about naming style are printed but are not format errors.
    const out = execFileSync('sh', ['-c', `promtool check metrics < ${join(dir, 'metrics.txt')}`], {
      encoding: 'utf8',
    });
    expect(out).not.to.match(/error/i);
  });

  it('keeps one endpoint value for 1,000 requests to random paths', async () => {
    const before = endpointValues(await (await fetch(`${server.url}/metrics`)).text());
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, () =>
          get(`${server.url}/random/${Math.random().toString(36).slice(2)}`),
        ),
      );
    }
    const after = endpointValues(await (await fetch(`${server.url}/metrics`)).text());
    const added = [...after].filter((v) => !before.has(v));
    expect(added.length).to.be.at.most(1);
    expect(after.size).to.be.at.most(before.size + 1);
  });

  it('writes one JSON log line per request', async () => {
    await get(`${server.url}/healthz?probe=log-line`);
    await new Promise((r) => setTimeout(r, 100));
    const lines = server.stdout
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => l.msg === 'request' && l.path === '/healthz');
    expect(line).to.include({ method: 'GET', endpoint: '/healthz', status: 200 });
    expect(line?.durationMs).to.be.a('number');
  });
});

interface Received {
  metrics: Array<Record<string, unknown>>;
  traces: Array<Record<string, unknown>>;
}

/** A minimal OTLP/HTTP (JSON) receiver, standing in for the Collector's otlp receiver. */
async function otlpReceiver(): Promise<{ server: Server; url: string; received: Received }> {
  const received: Received = { metrics: [], traces: [] };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const json = JSON.parse(body || '{}') as Record<string, unknown>;
      if (req.url === '/v1/metrics') received.metrics.push(json);
      if (req.url === '/v1/traces') received.traces.push(json);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${port}`, received };
}

describe('OTLP push and graceful shutdown', function () {
  this.timeout(60_000);

  it('pushes requests_total and koa spans; SIGTERM gives a final export and exit 0', async () => {
    const receiver = await otlpReceiver();
    const server = await spawnServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Longer than the test: whatever arrives came from the final export at shutdown.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    for (let i = 0; i < 5; i++) await get(`${server.url}/healthz`);
    expect(receiver.received.metrics).to.have.length(0);
    const started = Date.now();
    const code = await server.stop('SIGTERM');
    expect(code).to.equal(0);
    expect(Date.now() - started).to.be.below(10_000);
    receiver.server.close();

    const metricsJson = JSON.stringify(receiver.received.metrics);
    expect(metricsJson).to.include('"requests"');
    expect(metricsJson).to.include('"request_latency_seconds"');
    expect(metricsJson).to.include('"service.instance.id"');
    const tracesJson = JSON.stringify(receiver.received.traces);
    expect(tracesJson, 'a span from the koa instrumentation').to.include(
      '@opentelemetry/instrumentation-koa',
    );
  });
});

describe('start-up failures', function () {
  this.timeout(30_000);

  for (const [variable, value] of [
    ['PORT', 'abc'],
    ['PUE', '-1'],
  ] as const) {
    it(`exits 1 naming ${variable} when ${variable}=${value}`, async () => {
      const { code, stderr } = await runToExit({ [variable]: value });
      expect(code).to.equal(1);
      expect(stderr).to.include(variable);
      expect(stderr.trim().split('\n')).to.have.length(1);
      expect(stderr).not.to.match(/\n\s+at /);
    });
  }

  it('says what to do when the port is in use', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const { code, stderr } = await runToExit({ PORT: String(port) });
      expect(code).to.equal(1);
      expect(stderr.trim()).to.equal(
        `carbonscope: port ${port} is in use: stop the other process or set PORT`,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('a powercap root switches the service to measured RAPL figures', function () {
  this.timeout(60_000);

  it('reports rapl power, not the estimate, on /energy and /metrics', async () => {
    const root = mkdtempSync(join(tmpdir(), 'powercap-'));
    const counters = { 'intel-rapl:0': 0, 'intel-rapl:0:0': 0 };
    // Written to a temporary file and renamed: a sysfs read never sees a half-written value.
    const write = () => {
      for (const [dir, uj] of Object.entries(counters)) {
        writeFileSync(join(root, dir, 'energy_uj.tmp'), `${uj}\n`);
        renameSync(join(root, dir, 'energy_uj.tmp'), join(root, dir, 'energy_uj'));
      }
    };
    for (const [dir, name] of [
      ['intel-rapl:0', 'package-0'],
      ['intel-rapl:0:0', 'dram'],
    ]) {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'name'), `${name}\n`);
      writeFileSync(join(root, dir, 'max_energy_range_uj'), '262143328850\n');
    }
    write();
    // The package draws 6 W and the dram 2 W: the counters advance in real time.
    const started = Date.now();
    const ticker = setInterval(() => {
      const seconds = (Date.now() - started) / 1000;
      counters['intel-rapl:0'] = Math.round(seconds * 6e6);
      counters['intel-rapl:0:0'] = Math.round(seconds * 2e6);
      write();
    }, 20);
    const server = await spawnServer({
      ENERGY_POWERCAP_ROOT: root,
      ENERGY_SAMPLE_INTERVAL_MS: '250',
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const energy = (await (await fetch(`${server.url}/energy`)).json()) as {
        sources: Array<{ name: string; estimated: boolean }>;
        power: Array<{ scope: string; component: string; source: string; watts: number }>;
      };
      expect(energy.sources[0]).to.include({ name: 'rapl', estimated: false });
      const host = (component: string) =>
        energy.power.find((p) => p.scope === 'host' && p.component === component);
      expect(host('package')?.source).to.equal('rapl');
      expect(host('package')?.watts).to.be.within(4.5, 7.5);
      expect(host('dram')?.watts).to.be.within(1.2, 2.8);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(
        findSample(text, 'energy_joules_total', {
          scope: 'host',
          component: 'package',
          source: 'rapl',
        }),
      ).to.be.above(0);
      expect(server.stdout.join('\n')).to.match(/energy source: rapl/);
    } finally {
      clearInterval(ticker);
      await server.stop();
    }
  });
});
