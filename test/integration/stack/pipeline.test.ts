/**
 * The metrics path on real parts, started once for the suite: two app instances
 * (dist/src/server.js) push OTLP to the real OpenTelemetry Collector (built from
 * otel-collector/, run on its config.yaml), one in protobuf and one in JSON; one real Prometheus
 * (Debian's) scrapes the Collector's exporter as prometheus/prometheus.yml says, another scrapes
 * the apps' own /metrics. On both paths every dashboard panel query (with Grafana's
 * substitutions), recording rule and README example must return data, and every alert rule must
 * read only names and labels that arrive. Through the Collector, every series must equal the
 * app's /metrics, two instances must stay distinct, and the final export at SIGTERM must arrive.
 * Time is compressed: the apps export, the Collector batches, Prometheus scrapes and evaluates
 * rules every second. Every part of the service is wired, so a route that answers 404 or a
 * missing mock LLM fails the suite rather than leaving queries without data.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { METRICS, type MetricSpec, prometheusName } from 'carbonscope';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { findSample, parseSamples } from '#library-tests/helpers/metrics.js';
import { APP_METRICS } from '../../../src/metrics.js';
import { projectRoot } from '../../../src/paths.js';
import { runTraffic, sweep } from '../../../tools/traffic.js';
import {
  COLLECTOR_CONFIG,
  collectorBinary,
  type RunningCollector,
  startCollector,
} from '../../helpers/collector.js';
import {
  type PrometheusClient,
  type RunningPrometheus,
  type Sample,
  startPrometheus,
} from '../../helpers/prometheus.js';
import { freePort, type SpawnedServer, spawnServer } from '../../helpers/spawn-server.js';
import {
  allValues,
  docQueries,
  labelNamesIn,
  legendLabels,
  panelQueries,
  readRules,
  seriesNamesIn,
  substituteGrafana,
  variableQueries,
} from '../../helpers/stack.js';
import { poll, sleep, waitFor } from '../../helpers/wait.js';

const SECONDS = 1;
const MOCK_LLM_ENTRY = join(projectRoot, 'dist', 'src', 'llm', 'mock-server.js');
/** The Collector's batch timeout, shortened like every other interval here (config: 5 s). */
const BATCH = `processors::batch::timeout=${SECONDS}s`;

/** The labels that tell app replicas apart, one per path. */
const REPLICA_LABELS = ['instance', 'service_instance_id'];
/** A recording rule's name, level:metric:operation (colons: no metric of an app has one). */
const RECORDED_NAME = /\b[a-z_]+:[a-z_0-9]+:[a-z_0-9]+\b/g;

/**
 * An operation dropped on purpose, so OperationsDropped reads a series that arrives: the first
 * app drops operations open longer than this, and one request is left open (its body half sent).
 */
const DROP_AFTER_MS = 4000;
/** The request left open, as the first app names it in carbonscope_operation_dropped_total. */
const DROPPED = {
  carbonscope_operation: '/predict',
  carbonscope_operation_kind: 'request',
  carbonscope_drop_reason: 'age',
};

/** An alert the suite makes fire: what it must fire for, and the one alert it gives for each. */
interface Driven {
  /** Labels one of its alerts must carry: what the suite drove. */
  labels: Record<string, string>;
  /** The labels that tell its alerts apart (the rule's `by`): one alert for each set of them. */
  by: readonly string[];
  /** What arrived that it must fire for: one alert per set of `by` labels among these series. */
  series: string;
}

/**
 * The alerts the suite makes fire; every other is quiet. On a loaded machine an operation of the
 * traffic held past DROP_AFTER_MS (a stalled /chat, a slow /predict) is dropped too, and rightly
 * fires an alert of its own: each is checked against what arrived, not a count assumed.
 */
const DRIVEN: Record<string, Driven> = {
  OperationsDropped: {
    labels: DROPPED,
    by: ['job', 'service_name', ...Object.keys(DROPPED)],
    series: 'carbonscope_operation_dropped_total',
  },
};

/** The `by` labels of each, one text each, sorted: the alerts or series they tell apart. */
function groupsOf(labelSets: Array<Record<string, string>>, by: readonly string[]): string[] {
  const groups = labelSets.map((labels) =>
    JSON.stringify(by.map((name) => [name, labels[name] ?? ''])),
  );
  return [...new Set(groups)].sort();
}

/** A POST whose body never completes: the service holds it open until the socket closes. */
async function openRequest(port: number, path: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve).once('error', reject);
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      'Content-Length: 100\r\n\r\n{"features":',
  );
  return socket;
}

/**
 * Labels only the Collector's scrape has: a service is its job and service_name there (every
 * service shares the Collector's job) and its job alone on a direct scrape.
 */
const COLLECTOR_LABELS = ['service_name'];

interface Instance {
  server: SpawnedServer;
  protocol: string;
  /** service.instance.id: the `service_instance_id` label of its series behind the Collector. */
  id: string;
  serviceName: string;
}

/** The app's resource as its /metrics shows it on target_info. */
async function resourceOf(server: SpawnedServer): Promise<{ id: string; serviceName: string }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const info = parseSamples(text).find((s) => s.name === 'target_info');
  const id = info?.labels.service_instance_id;
  const serviceName = info?.labels.service_name;
  if (!id || !serviceName) throw new Error(`no service.instance.id on target_info:\n${text}`);
  return { id, serviceName };
}

/** The request count: http.server.request.duration's `_count`, as Prometheus names it. */
const REQUESTS = `${prometheusName(METRICS.httpDuration)}_count`;

/** What an app counted itself: its /metrics request count of 200s on /healthz. */
async function healthzCount(server: SpawnedServer): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return findSample(text, REQUESTS, { http_route: '/healthz', http_response_status_code: '200' });
}

/**
 * One series as text: its name and its labels, sorted. A bucket bound is compared as a number:
 * the JS exporter writes `le="0.00002"` where the Collector writes `le="2e-05"`, the same bound
 * (Prometheus 3 normalizes both at scrape time; 2.x stores them as written).
 */
function seriesKey(name: string, labels: Record<string, string>): string {
  const bound = labels.le === undefined ? {} : { le: String(Number(labels.le)) };
  const body = Object.entries({ ...labels, ...bound })
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `${name}{${body}}`;
}

/**
 * The series of the app's /metrics as the Collector path should show them. prometheus.yml
 * scrapes the Collector without honor_labels: job and instance are the scrape's own (the
 * otel-collector job, the exporter's address), and the job and instance the exporter makes of
 * service.name and service.instance.id are kept as service_name and service_instance_id, the
 * labels target_info already carries on the app's own /metrics.
 */
async function expectedThroughCollector(app: Instance, exporter: string): Promise<string[]> {
  const text = await (await fetch(`${app.server.url}/metrics`)).text();
  const keys = parseSamples(text).map(({ name, labels }) =>
    seriesKey(name, {
      ...labels,
      job: 'otel-collector',
      instance: exporter,
      service_name: app.serviceName,
      service_instance_id: app.id,
    }),
  );
  return [...new Set(keys)].sort();
}

async function seriesThroughCollector(prom: PrometheusClient, app: Instance): Promise<string[]> {
  const series = await prom.series(`{service_instance_id="${app.id}"}`);
  // A recording rule's series (its name has colons) is Prometheus's own, not the Collector's.
  return series
    .filter(({ __name__: name = '' }) => !name.includes(':'))
    .map(({ __name__: name = '', ...labels }) => seriesKey(name, labels))
    .sort();
}

describe('stack: app → OTel Collector → Prometheus, and app → Prometheus', function () {
  this.timeout(180_000);
  let mock: ChildProcess | undefined;
  let collector: RunningCollector | undefined;
  let direct: RunningPrometheus | undefined;
  let viaCollector: RunningPrometheus | undefined;
  const apps: Instance[] = [];
  let startedAt = 0;
  const traffic = new AbortController();
  let background: Promise<unknown> = Promise.resolve();
  let mockUrl = '';
  let held: Socket | undefined;

  /** The OTLP settings of an app that pushes to the Collector every `intervalMs`. */
  function otlpEnv(protocol: string, intervalMs: number): Record<string, string> {
    return {
      OTEL_TRACES_EXPORTER: 'none',
      ENERGY_SOURCE: 'estimate',
      CARBON_ZONE: 'DE',
      LLM_BASE_URL: mockUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector?.otlpUrl ?? '',
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_METRIC_EXPORT_INTERVAL: String(intervalMs),
      OTEL_METRIC_EXPORT_TIMEOUT: String(Math.min(intervalMs, 10_000)),
    };
  }

  async function startApp(
    protocol: string,
    intervalMs: number,
    env: Record<string, string> = {},
  ): Promise<Instance> {
    const server = await spawnServer(
      { ...otlpEnv(protocol, intervalMs), ...env },
      { waitFor: /listening on/ },
    );
    return { server, protocol, ...(await resourceOf(server)) };
  }

  before(async () => {
    // The LLM metrics come from chats against the mock; without it their queries have no data.
    const mockPort = await freePort();
    mock = spawn(process.execPath, [MOCK_LLM_ENTRY], {
      env: childEnv({
        HOST: '127.0.0.1',
        MOCK_LLM_PORT: String(mockPort),
        MOCK_LLM_LATENCY_MS: '5',
        LOG_LEVEL: 'warn',
      }),
      stdio: 'ignore',
    });
    await waitFor('the mock LLM', async () => {
      return (await fetch(`http://127.0.0.1:${mockPort}/healthz`)).ok;
    });
    mockUrl = `http://127.0.0.1:${mockPort}/v1`;

    collector = await startCollector([BATCH]);
    apps.push(
      await startApp('http/protobuf', 1000 * SECONDS, {
        ENERGY_OPERATION_MAX_AGE_MS: String(DROP_AFTER_MS),
      }),
    );
    apps.push(await startApp('http/json', 1000 * SECONDS));
    held = await openRequest(apps[0]?.server.port ?? 0, DROPPED.carbonscope_operation);

    const global = {
      scrape_interval: `${SECONDS}s`,
      scrape_timeout: `${SECONDS}s`,
      evaluation_interval: `${SECONDS}s`,
    };
    const targets = apps.map((a) => `127.0.0.1:${a.server.port}`);
    direct = await startPrometheus(() =>
      stringify({
        global,
        rule_files: ['rules.yml'],
        scrape_configs: [{ job_name: 'carbonscope', static_configs: [{ targets }] }],
      }),
    );
    // The compose stack's prometheus.yml, with the compose host names replaced by loopback
    // addresses and the intervals compressed.
    const composeConfig = parse(
      readFileSync(join(projectRoot, 'prometheus', 'prometheus.yml'), 'utf8'),
    ) as { scrape_configs: Array<{ job_name: string; static_configs: unknown }> };
    const exporter = collector.exporterAddress;
    viaCollector = await startPrometheus((self) =>
      stringify({
        ...composeConfig,
        global,
        scrape_configs: composeConfig.scrape_configs.map((job) => ({
          ...job,
          static_configs: [{ targets: [job.job_name === 'otel-collector' ? exporter : self] }],
        })),
      }),
    );
    startedAt = Date.now();

    // Each part owns some of the metrics the queries read: all must be served.
    for (const route of ['/energy', '/carbon_intensity', '/predict', '/chat']) {
      const res = await fetch(`${apps[0]?.server.url}${route}`, {
        headers: { accept: 'application/json' },
      });
      await res.arrayBuffer();
      expect(res.status, `GET ${route}`).to.not.equal(404);
    }
    // Every endpoint, good and bad inputs, on both instances; then steady traffic so rates
    // over the last few seconds are not zero while the queries run.
    for (const app of apps) await sweep(app.server.url);
    background = Promise.all(
      apps.map((app) =>
        runTraffic({
          baseUrl: app.server.url,
          ratePerSecond: 8,
          durationMs: 120_000,
          signal: traffic.signal,
        }),
      ),
    );
    await waitFor('two scrapes of both instances after the sweep', async () => {
      const up = await direct?.client.query(
        `count_over_time(up{job="carbonscope"}[${3 * SECONDS}s])`,
      );
      return up?.length === 2 && up.every((s) => Number(s.value[1]) >= 2);
    });
    await waitFor('both instances through the Collector', async () => {
      const ids = await viaCollector?.client.query(`count by (service_instance_id) (${REQUESTS})`);
      return ids?.length === 2;
    });
    await Promise.all([
      // Rates over $__rate_interval need a few more samples than two.
      sleep(5_000),
      // The drop comes DROP_AFTER_MS after the request was opened: awaited alongside the
      // samples above, not after them, so it adds no time of its own.
      waitFor('the drop of the request held open, on both paths', async () => {
        const dropped = [direct?.client, viaCollector?.client].map((prom) =>
          prom?.query(DRIVEN.OperationsDropped?.series ?? ''),
        );
        return (await Promise.all(dropped)).every((s) => (s?.length ?? 0) > 0);
      }),
    ]);
  });

  after(async () => {
    held?.destroy();
    traffic.abort();
    await background.catch(() => {});
    await Promise.all([direct?.stop(), viaCollector?.stop()]);
    await collector?.stop();
    mock?.kill('SIGTERM');
    await Promise.all(apps.map((a) => a.server.stop()));
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, log] of [
      ['collector', collector?.log()],
      ['prometheus (Collector path)', viaCollector?.log()],
      ['prometheus (app /metrics)', direct?.log()],
    ]) {
      if (log) process.stderr.write(`${name} log (tail):\n${log}\n`);
    }
  });

  /** Grafana's substitutions for a dashboard opened on "last N seconds", variables on All. */
  function grafanaExpr(expr: string): string {
    const rangeSeconds = Math.max(60, Math.ceil((Date.now() - startedAt) / 1000));
    // For a short range Grafana's step ($__interval) is its minimum, the scrape interval.
    const times = { scrapeIntervalSeconds: SECONDS, intervalSeconds: SECONDS, rangeSeconds };
    return substituteGrafana(expr, times, allValues());
  }

  /** The result of `expr`, which must hold a finite value. */
  async function expectData(prom: PrometheusClient, expr: string): Promise<Sample[]> {
    const result = await prom.query(expr);
    expect(result, `no data for: ${expr}`).to.not.be.empty;
    const finite = result.filter((s) => Number.isFinite(Number(s.value[1])));
    expect(finite, `only NaN/Inf for: ${expr}`).to.not.be.empty;
    return result;
  }

  it('runs a Collector with exactly the components config.yaml uses', () => {
    const config = parse(readFileSync(COLLECTOR_CONFIG, 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const built = parse(execFileSync(collectorBinary(), ['components'], { encoding: 'utf8' })) as {
      buildinfo: { version: string };
    } & Record<string, Array<{ name: string }> | null>;
    for (const kind of ['receivers', 'processors', 'exporters', 'extensions']) {
      const used = Object.keys(config[kind] ?? {}).map((id) => id.split('/')[0]);
      const names = (built[kind] ?? []).map((c) => c.name);
      expect(names, kind).to.have.members([...new Set(used)]);
    }
    const goMod = readFileSync(join(projectRoot, 'otel-collector', 'go.mod'), 'utf8');
    expect(goMod).to.include(`go.opentelemetry.io/collector/otelcol v${built.buildinfo.version}`);
  });

  const paths = [
    { name: 'through the Collector', prom: () => viaCollector?.client, absent: [] as string[] },
    { name: "from the app's /metrics", prom: () => direct?.client, absent: COLLECTOR_LABELS },
  ];
  for (const path of paths) {
    const prom = (): PrometheusClient => {
      const client = path.prom();
      if (!client) throw new Error(`no Prometheus ${path.name}: the suite's setup failed`);
      return client;
    };

    describe(`${path.name}: every dashboard panel query`, () => {
      for (const q of panelQueries()) {
        it(`${q.dashboard} / ${q.panel} (${q.refId})`, async () => {
          const result = await expectData(prom(), grafanaExpr(q.expr));
          // Grafana's Prometheus backend (pkg/promlib getName) writes a legend's {{label}} that
          // a series lacks as nothing, and a legend left empty falls back to all the series'
          // labels: each series must carry every label its legend names (the embodied
          // emissions, having no zone, were named 'host embodied ').
          for (const label of legendLabels(q.legend)) {
            const lacking = result.filter((s) => s.metric[label] === undefined);
            expect(
              lacking.map((s) => s.metric),
              `${label} of the legend ${q.legend} on: ${q.expr}`,
            ).to.deep.equal([]);
          }
        });
      }
    });

    it(`${path.name}: the Instances panel counts the two apps`, async () => {
      const q = panelQueries().find((p) => p.panel === 'Instances');
      if (!q) throw new Error('no Instances panel');
      const [count] = await expectData(prom(), grafanaExpr(q.expr));
      expect(Number(count?.value[1])).to.equal(apps.length);
    });

    describe(`${path.name}: every dashboard variable`, () => {
      for (const v of variableQueries()) {
        it(`${v.dashboard} / $${v.name}: ${v.query}`, async () => {
          const values = await prom().labelValues(v.label, v.metric);
          expect(values, v.query).to.not.be.empty;
        });
      }
    });

    describe(`${path.name}: every recording rule`, () => {
      for (const rule of readRules().recording) {
        it(rule.record, async () => {
          await expectData(prom(), rule.expr);
          // Prometheus loaded and evaluated the rule itself, not only its expression.
          await expectData(prom(), rule.record);
        });
      }
    });

    describe(`${path.name}: every PromQL example of the README`, () => {
      for (const expr of docQueries()) {
        it(expr, async () => {
          await expectData(prom(), expr);
        });
      }
    });

    const recorded = new Map(readRules().recording.map((r) => [r.record, r.expr]));
    /** `expr` with the expressions of the recording rules it reads after it. */
    const withRecordedExprs = (expr: string) =>
      [expr, ...[...expr.matchAll(RECORDED_NAME)].map((m) => recorded.get(m[0]) ?? '')].join('\n');

    describe(`${path.name}: every alert rule`, () => {
      for (const alert of readRules().alerts) {
        const driven = DRIVEN[alert.alert];
        const how = driven ? 'fires for what the suite drove' : 'is quiet';
        it(`${alert.alert} reads names and labels that arrive, and ${how}`, async () => {
          await prom().query(alert.expr);
          // A recording rule it reads is Prometheus's own: the names arriving are its rule's.
          const names = seriesNamesIn(withRecordedExprs(alert.expr));
          expect(names, alert.expr).to.not.be.empty;
          for (const name of names) await expectData(prom(), `count(${name})`);
          const anyOf = names.map((n) => `count(${n}{LABEL!=""})`).join(' or ');
          // A replica is `instance` on a direct scrape and `service_instance_id` behind the
          // Collector: a rule groups by both, and one of them arrives on each path; so does a
          // service's service_name, which only the Collector's scrape has.
          const labels = labelNamesIn(alert.expr);
          const identity = labels.filter((l) => REPLICA_LABELS.includes(l));
          const arriving = labels.filter((l) => !path.absent.includes(l));
          for (const label of arriving.filter((l) => !REPLICA_LABELS.includes(l))) {
            await expectData(prom(), anyOf.replaceAll('LABEL', label));
          }
          if (identity.length > 0) {
            await expectData(
              prom(),
              identity.map((l) => anyOf.replaceAll('LABEL', l)).join(' or '),
            );
          }
          const rule = (await prom().alertRules()).find((r) => r.name === alert.alert);
          expect(rule?.health, `${alert.alert} evaluated`).to.equal('ok');
          if (!driven) {
            expect(rule?.state, `${alert.alert} on a healthy stack`).to.equal('inactive');
            return;
          }
          // Quiet but for what the suite drove: it fires for that, once for each set of labels
          // it tells apart among what arrived. Polled: a drop that arrives between the rule's
          // last evaluation and the query is in one and not yet in the other.
          let alerts: Array<Record<string, string>> = [];
          let arrived: string[] = [];
          await poll(async () => {
            const now = (await prom().alertRules()).find((r) => r.name === alert.alert);
            alerts = (now?.alerts ?? []).filter((a) => a.state === 'firing').map((a) => a.labels);
            arrived = groupsOf(
              (await prom().query(driven.series)).map((s) => s.metric),
              driven.by,
            );
            return JSON.stringify(groupsOf(alerts, driven.by)) === JSON.stringify(arrived);
          }, 10_000);
          expect(rule?.state, alert.alert).to.equal('firing');
          expect(groupsOf(alerts, driven.by), alert.alert).to.deep.equal(arrived);
          expect(alerts, `${alert.alert}: one alert for each of ${arrived}`).to.have.length(
            arrived.length,
          );
          const drove = (labels: Record<string, string>) =>
            Object.entries(driven.labels).every(([name, value]) => labels[name] === value);
          expect(alerts.filter(drove), `${alert.alert} for what the suite drove`).to.have.length(1);
        });
      }
    });
  }

  describe('after the traffic stops', () => {
    before(async () => {
      traffic.abort();
      await background;
    });

    it("every series through the Collector equals the app's /metrics, in protobuf and JSON", async () => {
      const prom = viaCollector?.client;
      if (!prom) throw new Error('no Prometheus on the Collector path');
      for (const app of apps) {
        let got: string[] = [];
        let want: string[] = [];
        // Bounded: the last export, the batch and a scrape take about three seconds.
        await poll(async () => {
          [got, want] = [
            await seriesThroughCollector(prom, app),
            await expectedThroughCollector(app, collector?.exporterAddress ?? ''),
          ];
          return JSON.stringify(got) === JSON.stringify(want);
        }, 20_000);
        const missing = want.filter((k) => !got.includes(k));
        const extra = got.filter((k) => !want.includes(k));
        const diff = JSON.stringify({ missing: missing.slice(0, 8), extra: extra.slice(0, 8) });
        expect(missing.length + extra.length, `${app.protocol}: ${diff}`).to.equal(0);
        expect(got.length, app.protocol).to.be.greaterThan(100);
      }
    });

    it('keep distinct series per instance on both paths', async () => {
      const byId = await viaCollector?.client.query(`count by (service_instance_id) (${REQUESTS})`);
      expect(byId?.map((s) => s.metric.service_instance_id)).to.have.members(apps.map((a) => a.id));
      const byTarget = await direct?.client.query(`count by (instance) (${REQUESTS})`);
      expect(byTarget?.map((s) => s.metric.instance)).to.have.members(
        apps.map((a) => `127.0.0.1:${a.server.port}`),
      );
      const ids = await direct?.client.query('count by (service_instance_id) (target_info)');
      expect(ids?.map((s) => s.metric.service_instance_id)).to.have.members(apps.map((a) => a.id));
    });

    it('count partial intervals from 0, one series per host component series, on both paths', async () => {
      // Nothing went unread (the estimate): each series is there at 0, so a rate() sees the first.
      const energy = prometheusName(METRICS.energy);
      const partial = prometheusName(METRICS.energyPartial);
      const key = ({ __name__: _, ...labels }: Record<string, string>) => seriesKey('', labels);
      for (const prom of [viaCollector?.client, direct?.client]) {
        if (!prom) throw new Error('no Prometheus');
        const counted = await prom.query(partial);
        const components = await prom.query(energy);
        expect(counted.map((s) => key(s.metric)).sort()).to.deep.equal(
          components.map((s) => key(s.metric)).sort(),
        );
        expect(counted).to.have.length.above(0);
        expect([...new Set(counted.map((s) => Number(s.value[1])))]).to.deep.equal([0]);
      }
    });

    it('sum to the total of what each instance counted itself, on both paths', async () => {
      const selector = `${REQUESTS}{http_route="/healthz", http_response_status_code="200"}`;
      const own = await Promise.all(apps.map(async (app) => (await healthzCount(app.server)) ?? 0));
      expect(own.every((n) => n > 0)).to.equal(true);
      const instances = [
        { prom: viaCollector?.client, by: 'service_instance_id', label: (a: Instance) => a.id },
        {
          prom: direct?.client,
          by: 'instance',
          label: (a: Instance) => `127.0.0.1:${a.server.port}`,
        },
      ];
      for (const { prom, by, label } of instances) {
        let perInstance: number[] = [];
        let total = 0;
        await poll(async () => {
          const time = Date.now() / 1000;
          const samples = (await prom?.query(`sum by (${by}) (${selector})`, time)) ?? [];
          perInstance = apps.map((app) =>
            Number(samples.find((s) => s.metric[by] === label(app))?.value[1]),
          );
          total = Number((await prom?.query(`sum(${selector})`, time))?.[0]?.value[1]);
          return JSON.stringify(perInstance) === JSON.stringify(own);
        }, 20_000);
        expect(perInstance).to.deep.equal(own);
        expect(total).to.equal(own.reduce((a, b) => a + b, 0));
      }
    });
  });

  describe('at SIGTERM', () => {
    it('the final export reaches Prometheus through the Collector', async () => {
      // A ten-minute interval: nothing is exported before the shutdown, so what arrives is the
      // final export alone.
      const app = await startApp('http/protobuf', 600_000);
      const prom = viaCollector?.client;
      if (!prom) throw new Error('no Prometheus on the Collector path');
      for (let i = 0; i < 3; i++) await (await fetch(`${app.server.url}/healthz`)).arrayBuffer();
      const counted = await healthzCount(app.server);
      expect(counted).to.equal(3);
      const selector = `${REQUESTS}{service_instance_id="${app.id}", http_route="/healthz", http_response_status_code="200"}`;
      expect(await prom.query(selector), 'nothing exported before SIGTERM').to.be.empty;

      expect(await app.server.stop('SIGTERM'), 'exit code').to.equal(0);
      let arrived: number | undefined;
      await poll(async () => {
        arrived = Number((await prom.query(selector))[0]?.value[1]);
        return arrived === counted;
      }, 20_000);
      expect(arrived, `${selector} after SIGTERM`).to.equal(counted);
    });
  });

  describe('why config.yaml needs no transform processor', () => {
    it('the real Collector names every metric of the table as the app names it, from its OTLP name and unit', async () => {
      // One data point of every instrument of the table, pushed as the app's meter pushes it
      // (OTel name, UCUM unit, kind), including those the traffic above may leave empty.
      const specs: MetricSpec[] = [...Object.values(METRICS), ...Object.values(APP_METRICS)];
      const now = `${Date.now()}000000`;
      const start = `${Date.now() - 1000}000000`;
      const point = { attributes: [], startTimeUnixNano: start, timeUnixNano: now };
      const metric = (spec: MetricSpec) => {
        const base = { name: spec.name, unit: spec.unit };
        if (spec.kind === 'histogram') {
          const histogram = { ...point, count: 1, sum: 1, bucketCounts: [1], explicitBounds: [] };
          return { ...base, histogram: { aggregationTemporality: 2, dataPoints: [histogram] } };
        }
        if (spec.kind === 'observableGauge') {
          return { ...base, gauge: { dataPoints: [{ ...point, asDouble: 1 }] } };
        }
        const sum = { aggregationTemporality: 2, isMonotonic: true };
        return { ...base, sum: { ...sum, dataPoints: [{ ...point, asDouble: 1 }] } };
      };
      const body = {
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'probe' } }] },
            scopeMetrics: [{ scope: { name: 'carbonscope' }, metrics: specs.map(metric) }],
          },
        ],
      };
      const probe = await startCollector([BATCH]);
      try {
        const res = await fetch(`${probe.otlpUrl}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).to.equal(200);
        let families: string[] = [];
        await poll(async () => {
          const text = await (await fetch(`http://${probe.exporterAddress}/metrics`)).text();
          families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? '');
          return families.length >= specs.length;
        }, 10_000);
        expect(families.filter((f) => f !== 'target_info').sort()).to.deep.equal(
          specs.map(prometheusName).sort(),
        );
      } finally {
        await probe.stop();
      }
    });
  });
});
