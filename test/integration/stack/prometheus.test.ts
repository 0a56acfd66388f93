/**
 * The dashboards and rules against the real Prometheus (Debian's package): two app instances,
 * scraped every second, rules evaluated every second, traffic through every endpoint; then
 * every panel query (with Grafana's substitutions) and every recording rule must be valid and
 * return data. Every part of the service is wired, so a route that answers 404 or a missing
 * mock LLM fails the suite rather than skipping the queries that need them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';
import { runTraffic, sweep } from '../../../src/traffic.js';
import { freePort, type SpawnedServer, spawnServer } from '../../helpers/spawn-server.js';
import {
  allValues,
  collectorMetricName,
  docQueries,
  exposedFamilies,
  type PrometheusClient,
  panelQueries,
  RULES_FILE,
  type RunningPrometheus,
  readRules,
  startPrometheus,
  stopPrometheus,
  substituteGrafana,
  waitFor,
} from '../../helpers/stack.js';

const SCRAPE_SECONDS = 1;
const MOCK_LLM_ENTRY = join(projectRoot, 'dist', 'src', 'llm', 'mock-server.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stack: dashboards and rules on a real Prometheus', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'carbonscope-prom-'));
  const apps: SpawnedServer[] = [];
  let mock: ChildProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  let prom: PrometheusClient;
  let startedAt = 0;
  const traffic = new AbortController();
  let background: Promise<unknown> = Promise.resolve();

  before(async () => {
    const env: Record<string, string> = {
      OTEL_TRACES_EXPORTER: 'none',
      ENERGY_SOURCE: 'estimate',
      CARBON_ZONE: 'DE',
    };
    // The LLM metrics come from chats against the mock; without it their queries have no data.
    expect(existsSync(MOCK_LLM_ENTRY), `${MOCK_LLM_ENTRY} (npx tsc -p .)`).to.equal(true);
    const mockPort = await freePort();
    mock = spawn(process.execPath, [MOCK_LLM_ENTRY], {
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        MOCK_LLM_PORT: String(mockPort),
        MOCK_LLM_LATENCY_MS: '5',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    await waitFor('the mock LLM', async () => {
      return (await fetch(`http://127.0.0.1:${mockPort}/healthz`)).ok;
    });
    env.LLM_BASE_URL = `http://127.0.0.1:${mockPort}/v1`;
    apps.push(await spawnServer(env, { waitFor: /listening on/ }));
    apps.push(await spawnServer(env, { waitFor: /listening on/ }));

    const rules = join(dir, 'rules.yml');
    copyFileSync(RULES_FILE, rules);
    const targets = apps.map((a) => `'127.0.0.1:${a.port}'`).join(', ');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        `  scrape_interval: ${SCRAPE_SECONDS}s`,
        `  scrape_timeout: ${SCRAPE_SECONDS}s`,
        `  evaluation_interval: ${SCRAPE_SECONDS}s`,
        'rule_files: [rules.yml]',
        'scrape_configs:',
        '  - job_name: carbonscope',
        `    static_configs: [{ targets: [${targets}] }]`,
        '',
      ].join('\n'),
    );
    prometheus = await startPrometheus(dir);
    prom = prometheus.client;
    startedAt = Date.now();

    // Each part owns some of the metrics the queries read: all must be served.
    for (const route of ['/energy', '/carbon_intensity', '/predict', '/chat']) {
      const res = await fetch(`${apps[0]?.url}${route}`, {
        headers: { accept: 'application/json' },
      });
      await res.arrayBuffer();
      expect(res.status, `GET ${route}`).to.not.equal(404);
    }
    // Every endpoint, good and bad inputs, on both instances; then steady traffic so rates
    // over the last few seconds are not zero while the queries run.
    for (const app of apps) await sweep(app.url);
    background = Promise.all(
      apps.map((app) =>
        runTraffic({
          baseUrl: app.url,
          ratePerSecond: 8,
          durationMs: 120_000,
          signal: traffic.signal,
        }),
      ),
    );
    await waitFor('two scrapes of both instances after the sweep', async () => {
      const up = await prom.query(`count_over_time(up{job="carbonscope"}[${3 * SCRAPE_SECONDS}s])`);
      return up.length === 2 && up.every((s) => Number(s.value[1]) >= 2);
    });
    // Rates over $__rate_interval need a few more samples than two.
    await sleep(5_000);
  });

  after(async () => {
    traffic.abort();
    await background.catch(() => {});
    await stopPrometheus(prometheus);
    mock?.kill('SIGTERM');
    await Promise.all(apps.map((a) => a.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Grafana's substitutions for a dashboard opened on "last N seconds", variables on All. */
  function grafanaExpr(expr: string): string {
    const rangeSeconds = Math.max(60, Math.ceil((Date.now() - startedAt) / 1000));
    // For a short range Grafana's step ($__interval) is its minimum, the scrape interval.
    const times = {
      scrapeIntervalSeconds: SCRAPE_SECONDS,
      intervalSeconds: SCRAPE_SECONDS,
      rangeSeconds,
    };
    return substituteGrafana(expr, times, allValues());
  }

  async function expectData(expr: string): Promise<void> {
    const result = await prom.query(expr);
    expect(result, `no data for: ${expr}`).to.not.be.empty;
    const finite = result.filter((s) => Number.isFinite(Number(s.value[1])));
    expect(finite, `only NaN/Inf for: ${expr}`).to.not.be.empty;
  }

  describe('every dashboard panel query', () => {
    for (const q of panelQueries()) {
      it(`${q.dashboard} / ${q.panel} (${q.refId})`, async () => {
        await expectData(grafanaExpr(q.expr));
      });
    }
  });

  describe('every recording rule', () => {
    for (const rule of readRules().recording) {
      it(`${rule.record}`, async () => {
        await expectData(rule.expr);
        // Prometheus loaded and evaluated the rule itself, not only its expression.
        await expectData(rule.record);
      });
    }
  });

  describe('every PromQL example of the README', () => {
    for (const expr of docQueries()) {
      it(expr, async () => {
        await expectData(expr);
      });
    }
  });

  it('every alert expression is valid PromQL, and no alert fires on a healthy stack', async () => {
    for (const alert of readRules().alerts) await prom.query(alert.expr);
    const res = await fetch(`${prom.url}/api/v1/rules?type=alert`);
    const body = (await res.json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; state: string }> }> };
    };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).to.have.members(readRules().alerts.map((a) => a.alert));
    for (const rule of rules) {
      expect(rule.health, rule.name).to.not.equal('err');
      expect(rule.state, rule.name).to.equal('inactive');
    }
  });

  it('the app names would come out of the collector unchanged (units cleared)', async () => {
    const text = await (await fetch(`${apps[0]?.url}/metrics`)).text();
    const families = exposedFamilies(text);
    expect(families.map((f) => f.name)).to.include.members([
      'requests_total',
      'request_latency_seconds',
    ]);
    for (const f of families) {
      const type =
        f.type === 'counter' ? 'counter' : f.type === 'histogram' ? 'histogram' : 'gauge';
      const otlpName = type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
      expect(collectorMetricName(otlpName, '', type), f.name).to.equal(f.name);
    }
  });

  describe('two instances scraped together', () => {
    before(async () => {
      traffic.abort();
      await background;
      // Let every instance be scraped after the last request.
      await sleep(2_500 * SCRAPE_SECONDS);
    });

    it('keep distinct series per instance', async () => {
      const byInstance = await prom.query('count by (instance) (requests_total)');
      expect(byInstance.map((s) => s.metric.instance)).to.have.members(
        apps.map((a) => `127.0.0.1:${a.port}`),
      );
      const ids = await prom.query('count by (service_instance_id) (target_info)');
      expect(ids).to.have.length(2);
    });

    it('sum to the total of what each instance counted itself', async () => {
      const selector = 'requests_total{endpoint="/healthz", status="200"}';
      const time = Date.now() / 1000;
      const perInstance = await prom.query(`sum by (instance) (${selector})`, time);
      const total = await prom.query(`sum(${selector})`, time);
      const own = await Promise.all(
        apps.map(async (app) => {
          const text = await (await fetch(`${app.url}/metrics`)).text();
          const line = text
            .split('\n')
            .find(
              (l) =>
                l.startsWith('requests_total{') &&
                l.includes('endpoint="/healthz"') &&
                l.includes('status="200"'),
            );
          return Number(line?.split(' ').pop());
        }),
      );
      expect(own.every((n) => n > 0)).to.equal(true);
      const fromProm = apps.map((app) =>
        Number(perInstance.find((s) => s.metric.instance === `127.0.0.1:${app.port}`)?.value[1]),
      );
      expect(fromProm).to.deep.equal(own);
      expect(Number(total[0]?.value[1])).to.equal(own.reduce((a, b) => a + b, 0));
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && prometheus?.log.length) {
      process.stderr.write(`prometheus log (tail):\n${prometheus.log.join('').slice(-2000)}\n`);
    }
  });
});
