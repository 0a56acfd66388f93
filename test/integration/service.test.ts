import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { METRICS } from 'carbonscope';
import { expect } from 'chai';
import { StubElectricityMaps } from '#library-tests/fixtures/grid/stub-electricity-maps.js';
import { findSample, parseLabels } from '#library-tests/helpers/metrics.js';
import { histogramPoint, otlpReceiver } from '#library-tests/helpers/otlp-receiver.js';
import { silentCollector } from '#library-tests/helpers/silent-collector.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { HTTP_DURATION } from '../helpers/app.js';
import { refusingCollector } from '../helpers/collector.js';
import {
  freePort,
  runToExit,
  SERVER_ENTRY,
  type SpawnedServer,
  spawnServer,
  untilReady,
} from '../helpers/spawn-server.js';
import { poll, waitFor } from '../helpers/wait.js';

async function get(url: string): Promise<Response> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res;
}

/** Every sample of `name` whose labels include `labels`, in exposition order. */
function samplesOf(
  exposition: string,
  name: string,
  labels: Record<string, string>,
): Array<{ labels: Record<string, string>; value: number }> {
  const found: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{(.*)\}\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = parseLabels(m[2]);
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
      found.push({ labels: got, value: Number(m[3]) });
    }
  }
  return found;
}

const LATENCY_LE = [
  '0.005',
  '0.01',
  '0.025',
  '0.05',
  '0.075',
  '0.1',
  '0.25',
  '0.5',
  '0.75',
  '1',
  '2.5',
  '5',
  '7.5',
  '10',
  '+Inf',
];

function endpointValues(exposition: string): Set<string> {
  const values = new Set<string>();
  for (const line of exposition.split('\n')) {
    const m = /^http_server_request_duration_seconds_count\{(.*)\}/.exec(line);
    if (m) values.add(parseLabels(m[1]).http_route);
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

  it('answers health, and readiness once the start-up work is done', async () => {
    // First, before any other request: right after "listening" the meter's first sample (and
    // sometimes the model) may still be pending, or may already be done; both happen, so the
    // names are checked only when the 503 is seen.
    const early = await fetch(`${server.url}/readyz`);
    const earlyBody = (await early.json()) as { pending: string[]; failed: object };
    if (early.status === 503) {
      expect(earlyBody.pending).to.not.be.empty;
      expect(['meter', 'model']).to.include.members(earlyBody.pending);
      expect(earlyBody.failed).to.deep.equal({});
    }
    expect((await get(`${server.url}/healthz`)).status).to.equal(200);
    await untilReady(server.url, 20_000);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ ready: true, pending: [], failed: {} });
  });

  it('answers unknown paths with 404 JSON {error, message}', async () => {
    const res = await fetch(`${server.url}/no/such/page`);
    expect(res.status).to.equal(404);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).to.have.keys('error', 'message');
    expect(body.message).to.include('/no/such/page');
  });

  it('lists http.server.request.duration with its semconv labels, accepted by promtool', async () => {
    for (let i = 0; i < 3; i++) await get(`${server.url}/healthz`);
    await get(`${server.url}/nope`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const healthz = {
      http_route: '/healthz',
      http_request_method: 'GET',
      http_response_status_code: '200',
      url_scheme: 'http',
    };
    expect(findSample(text, `${HTTP_DURATION}_count`, healthz)).to.be.at.least(3);
    expect(
      findSample(text, `${HTTP_DURATION}_count`, {
        http_route: 'unmatched',
        http_response_status_code: '404',
      }),
    ).to.be.at.least(1);
    expect(text).to.match(/^# TYPE http_server_request_duration_seconds histogram$/m);
    const buckets = samplesOf(text, `${HTTP_DURATION}_bucket`, healthz);
    expect(buckets.map((b) => b.labels.le)).to.deep.equal(LATENCY_LE);
    const inf = buckets[buckets.length - 1].value;
    expect(inf).to.equal(findSample(text, `${HTTP_DURATION}_count`, healthz));
    // promtool reads the exposition from stdin and exits non-zero on a format error; lint
    // findings about naming style are printed but are not format errors.
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out).not.to.match(/error/i);
  });

  it('target_info names the service, not the command line, owner or host', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const info = text.split('\n').find((l) => l.startsWith('target_info{')) ?? '';
    expect(info).to.include('service_name="carbonscope"').and.include('service_instance_id=');
    for (const leak of [
      'process_command',
      'process_executable',
      'process_owner',
      'host_name',
      'host_id',
    ]) {
      expect(info, leak).not.to.include(leak);
    }
    expect(info).not.to.include(SERVER_ENTRY);
  });

  // A Node built --without-intl has no Intl: the library runs there, but the dashboard's
  // endpoint order took an Intl.Collator at load, so the service stopped at its first import with
  // `Intl is not defined`. Deleting Intl reproduces just that.
  it('starts and ranks its endpoints on a Node without Intl', async () => {
    const noIntl = join(tempDirUntilExit('carbonscope-no-intl-'), 'no-intl.mjs');
    writeFileSync(noIntl, 'delete globalThis.Intl;\n');
    const bare = await spawnServer({
      OTEL_TRACES_EXPORTER: 'none',
      NODE_OPTIONS: `--import=${pathToFileURL(noIntl).href}`,
    });
    try {
      // Two endpoints at two requests each: their tie is what the order decides.
      for (const path of ['/healthz', '/metrics', '/metrics', '/healthz']) {
        expect((await get(`${bare.url}${path}`)).status).to.equal(200);
      }
      const tied = async () => {
        const data = (await (await fetch(`${bare.url}/dashboard/data`)).json()) as {
          requests: Array<{ endpoint: string; requests: number }>;
        };
        return data.requests.filter((r) => r.endpoint === '/healthz' || r.endpoint === '/metrics');
      };
      // Each is counted as its operation ends, after its answer.
      const counted = async () => (await tied()).reduce((n, r) => n + r.requests, 0) === 4;
      await waitFor('the four requests on the dashboard', counted);
      expect((await tied()).map((r) => `${r.endpoint} ${r.requests}`)).to.deep.equal([
        '/healthz 2',
        '/metrics 2',
      ]);
    } finally {
      await bare.stop();
    }
  });

  it('keeps one endpoint value for 1,000 requests to random paths', async () => {
    const unmatched = { http_route: 'unmatched', http_response_status_code: '404' };
    const beforeText = await (await fetch(`${server.url}/metrics`)).text();
    const before = endpointValues(beforeText);
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, () =>
          get(`${server.url}/random/${Math.random().toString(36).slice(2)}`),
        ),
      );
    }
    const afterText = await (await fetch(`${server.url}/metrics`)).text();
    const after = endpointValues(afterText);
    expect(
      (findSample(afterText, `${HTTP_DURATION}_count`, unmatched) ?? 0) -
        (findSample(beforeText, `${HTTP_DURATION}_count`, unmatched) ?? 0),
    ).to.equal(1000);
    const added = [...after].filter((v) => !before.has(v));
    expect(added.length).to.be.at.most(1);
    expect(after.size).to.be.at.most(before.size + 1);
  });

  it("counts what Node's parser rejects before the app, with no route", async () => {
    const { hostname, port } = new URL(server.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write('GARBAGE\r\n\r\n');
    });
    expect(reply).to.match(/^HTTP\/1\.1 400 /);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const early = samplesOf(text, `${HTTP_DURATION}_count`, {
      http_request_method: '_OTHER',
      http_response_status_code: '400',
    }).filter((s) => s.labels.http_route === undefined);
    expect(early.map((s) => s.value)).to.deep.equal([1]);
  });
});

interface ExportedSpan {
  traceId?: string;
  name?: string;
  /** OTLP's SpanKind: SPAN_KIND_CLIENT for an outgoing request. */
  kind?: number;
  attributes?: Array<{ key: string; value?: { stringValue?: string } }>;
}

/** OTLP's SPAN_KIND_CLIENT (the API's SpanKind.CLIENT is 2: OTLP counts UNSPECIFIED first). */
const SPAN_KIND_CLIENT = 3;

/** Every span in OTLP/JSON trace exports (`resourceSpans[].scopeSpans[].spans[]`). */
function exportedSpans(exports: Array<Record<string, unknown>>): ExportedSpan[] {
  type Spans = {
    resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: ExportedSpan[] }> }>;
  };
  return (exports as Spans[]).flatMap((e) =>
    (e.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])),
  );
}

/** The request log lines (JSON, `msg: "request"`) among a server's stdout lines. */
function requestLogLines(stdout: string[]): Array<Record<string, unknown>> {
  return stdout
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'request');
}

/**
 * Settings that push metrics and spans over OTLP/JSON to `url`, at intervals longer than a test:
 * whatever arrives came from the final export at shutdown.
 */
function pushingAtShutdown(url: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '600000',
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  };
}

describe('OTLP push and graceful shutdown', function () {
  this.timeout(60_000);

  it('pushes http.server.request.duration and koa spans, logs each request with its trace id; SIGTERM gives a final export and exit 0', async () => {
    const receiver = await otlpReceiver();
    const server = await spawnServer(pushingAtShutdown(receiver.url));
    for (let i = 0; i < 5; i++) await get(`${server.url}/energy`);
    // This test is the server's only client: once the five lines above have arrived (stdout is
    // a pipe, they may trail their responses), every request line after them is the probe's.
    await poll(async () => requestLogLines(server.stdout).length >= 5, 5_000, 20);
    expect(requestLogLines(server.stdout)).to.have.length(5);
    const probe = randomUUID();
    await get(`${server.url}/energy?probe=${probe}`);
    expect(receiver.pushes).to.have.length(0);
    const code = await server.stop('SIGTERM');
    expect(code).to.equal(0);
    // Within its grace: the shutdown says so of any part it had to give up on.
    expect(server.stdout.filter((l) => l.includes('within the grace period'))).to.deep.equal([]);
    await receiver.close();

    const metricsJson = JSON.stringify(receiver.pushes.map((p) => p.body));
    expect(metricsJson).to.include('"http.server.request.duration"');
    expect(metricsJson).to.include('"service.instance.id"');
    // The instrumentations record http.server.request.duration too; their meters are dropped,
    // so each semconv name is pushed once, carbonscope's.
    const scopes = new Set(
      [...metricsJson.matchAll(/"scope":\{"name":"([^"]+)"/g)].map((m) => m[1]),
    );
    expect([...scopes]).to.deep.equal(['carbonscope']);
    const tracesJson = JSON.stringify(receiver.traces);
    expect(tracesJson, 'a span from the koa instrumentation').to.include(
      '@opentelemetry/instrumentation-koa',
    );

    const probeLines = requestLogLines(server.stdout).slice(5);
    expect(probeLines).to.have.length(1);
    const [line] = probeLines;
    expect(line).to.include({ method: 'GET', path: '/energy', endpoint: '/energy', status: 200 });
    expect(line.durationMs).to.be.a('number');
    expect(line.trace_id)
      .to.be.a('string')
      .and.match(/^[0-9a-f]{32}$/);
    // The log line's trace is the probe's: its http server span carries the unique query.
    const traceSpans = exportedSpans(receiver.traces).filter(
      (span) => span.traceId === line.trace_id,
    );
    expect(traceSpans).to.not.be.empty;
    expect(JSON.stringify(traceSpans)).to.include(probe);
    // The server span and the router's, which names the route; no span per app middleware
    // (TRACE_KOA_MIDDLEWARE is off by default).
    expect(traceSpans.map((span) => span.name).sort()).to.deep.equal([
      'GET /energy',
      'router - /energy',
    ]);
    // With tracing on, the request's energy reaches its trace (settled at the last sample).
    expect(JSON.stringify(traceSpans)).to.include('"carbonscope.energy_joules"');
  });

  // The SDK hands a failed push to its global error handler, silent without OTEL_LOG_LEVEL: a
  // collector that is down or refuses the key lost every figure without a word in the log.
  it('says in one warning line when a push fails, its URL password and headers hidden', async () => {
    const { server: collector, port } = await refusingCollector();
    let refused = 0;
    collector.on('request', () => refused++);
    // A push gets the interval to be answered (the exporter's timeout is cut to it): at 200 ms a
    // loaded machine's first push timed out, and the line said that, not the refusal.
    const server = await spawnServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://push:OTLP-PW-42@127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=tok-HEADER-9f8e7d',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRIC_EXPORT_INTERVAL: '2000',
    });
    const failures = () => server.stdout.filter((l) => l.includes('could not push metrics'));
    try {
      // Several pushes fail for the same reason (the third's arrival: the second was answered
      // an interval before); it is said once.
      await waitFor('three pushes refused', async () => refused >= 3, 40_000, 50);
      await waitFor('the warning', async () => failures().length > 0, 10_000, 50);
      expect(failures()).to.have.length(1);
      const line = JSON.parse(failures()[0]) as { level: number; msg: string };
      expect(line.level).to.equal(40);
      expect(line.msg).to.match(
        /^could not push metrics to http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/v1\/metrics: .*\(HTTP 401\)/,
      );
      const output = [...server.stdout, ...server.stderr].join('\n');
      for (const secret of ['OTLP-PW-42', 'tok-HEADER-9f8e7d']) {
        expect(output).not.to.include(secret);
      }
    } finally {
      await server.stop('SIGTERM');
      collector.close();
    }
  });

  // The dashboards and alerts see a running app by pushes at most 100 s apart: a longer
  // interval is said once at the start, as a JSON line at warn level naming setting and limit.
  it("warns once at the start of a push interval over the dashboards' 100 s", async () => {
    const receiver = await otlpReceiver();
    const server = await spawnServer({
      ...pushingAtShutdown(receiver.url),
      OTEL_METRIC_EXPORT_INTERVAL: '100001',
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      const told = server.stdout
        .filter((l) => l.includes('OTEL_METRIC_EXPORT_INTERVAL'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(told).to.have.length(1);
      expect(told[0]).to.include({
        level: 40,
        setting: 'OTEL_METRIC_EXPORT_INTERVAL',
        intervalMs: 100_001,
        limitMs: 100_000,
      });
    } finally {
      await server.stop('SIGTERM');
      await receiver.close();
    }
  });

  // At the end no next export comes: a final push that fails says what it dropped, as
  // register's last push does, not that the next export tries again.
  it('says what a final push refused at shutdown dropped', async () => {
    const { server: collector, port } = await refusingCollector();
    const server = await spawnServer({
      ...pushingAtShutdown(`http://127.0.0.1:${port}`),
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      expect(await server.stop('SIGTERM')).to.equal(0);
      const told = server.stdout
        .filter((l) => l.includes('could not push'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(told).to.have.length(1);
      expect(told[0]).to.match(
        /^could not push the last metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics within 2 s: .*\(HTTP 401\); dropped \d+ data points of \d+ metrics \(what was counted since the last push that got through\)$/,
      );
    } finally {
      collector.close();
    }
  });

  // With nothing listening at the collector's port, the final push retried the refused
  // connection a second apart until the grace was spent: SIGTERM to exit took 8.2-9 s (9 s is
  // the README's bound). Counted, not timed: the exporter's verbose lines say whether it retried.
  it('fails the final push at once where nothing listens at the collector, as register does', async () => {
    const server = await spawnServer({
      ...pushingAtShutdown(`http://127.0.0.1:${await freePort()}`),
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOG_LEVEL: 'verbose',
      // The SDK's lines are in the log at their level (VERBOSE as debug): a retry is one.
      LOG_LEVEL: 'debug',
    });
    expect(await server.stop('SIGTERM')).to.equal(0);
    const lines = [...server.stdout, ...server.stderr];
    const count = (text: string) => lines.filter((l) => l.includes(text)).length;
    expect({
      retries: count('Scheduling export retry'),
      told: count('could not push the last'),
    }).to.deep.equal({ retries: 0, told: 1 });
  });

  // The last push's exporter is not the periodic one: what it carries must still be every
  // figure, in either encoding, to a collector that answers late but within the 2 s deadline.
  for (const protocol of ['http/protobuf', 'http/json']) {
    it(`pushes every request at SIGTERM to a collector answering in 1 s, ${protocol}`, async () => {
      const receiver = await otlpReceiver({
        answer: () => new Promise((done) => setTimeout(() => done(200), 1_000)),
      });
      const server = await spawnServer({
        ...pushingAtShutdown(receiver.url),
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_TRACES_EXPORTER: 'none',
      });
      try {
        for (let i = 0; i < 6; i++) await get(`${server.url}/energy`);
        expect(await server.stop('SIGTERM')).to.equal(0);
        const point = histogramPoint(
          receiver.pushes.at(-1)?.body,
          METRICS.httpDuration.name,
          'http.route',
          '/energy',
        );
        expect({
          pushes: receiver.pushes.length,
          count: point?.count,
          told: server.stdout.filter((l) => l.includes('could not push')),
        }).to.deep.equal({ pushes: 1, count: 6, told: [] });
      } finally {
        await receiver.close();
      }
    });
  }

  // The exporter's own timeout (10 s, its retries included) outlasted the reader's: the reader
  // gave up first, silently, and a refused connection went untold for 7.7 s at a 1 s interval.
  // Told by the line, not by elapsed time: here the exporter's own timeout is 10 min, past
  // mocha's, so the warning comes in time only where the push was given up at the reader's 1 s.
  it("warns of a collector that never answers at the reader's timeout, not the exporter's", async () => {
    const silent = await silentCollector();
    const server = await spawnServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: silent.url,
      OTEL_EXPORTER_OTLP_TIMEOUT: '600000',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    });
    try {
      const failures = () => server.stdout.filter((l) => l.includes('could not push metrics'));
      await waitFor('a warning of the push', async () => failures().length > 0, 40_000, 50);
      expect((JSON.parse(failures()[0] as string) as { msg: string }).msg).to.match(
        /^could not push metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: Request timed out;/,
      );
    } finally {
      await server.stop('SIGTERM');
      await silent.close();
    }
  });

  it('traces each app middleware too with TRACE_KOA_MIDDLEWARE=true', async () => {
    const receiver = await otlpReceiver();
    const server = await spawnServer({
      ...pushingAtShutdown(receiver.url),
      TRACE_KOA_MIDDLEWARE: 'true',
    });
    await get(`${server.url}/energy`);
    expect(await server.stop('SIGTERM')).to.equal(0);
    await receiver.close();
    const names = exportedSpans(receiver.traces).map((span) => span.name ?? '');
    expect(names).to.include.members(['GET /energy', 'router - /energy']);
    expect(names.filter((name) => name.startsWith('middleware - '))).to.not.be.empty;
  });

  it('exports at SIGTERM the server span of every request its last sample had not settled, with its figures', async () => {
    const receiver = await otlpReceiver();
    const server = await spawnServer(pushingAtShutdown(receiver.url));
    // Many requests inside one sample interval: their spans are paced when settled (past the
    // first 256), and the stop settles them just before the SDK's last export.
    const requests = 600;
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = worker; i < requests; i += 8) await get(`${server.url}/energy?n=${i}`);
      }),
    );
    expect(await server.stop('SIGTERM')).to.equal(0);
    await receiver.close();
    const served = exportedSpans(receiver.traces).filter((span) => span.name === 'GET /energy');
    expect(served).to.have.length(requests);
    for (const span of served) {
      expect(span.attributes?.map((a) => a.key)).to.include('carbonscope.energy_joules');
    }
  });

  /** The names of the spans a server exported for one request to each path, then SIGTERM. */
  async function spanNames(paths: string[], env: Record<string, string> = {}): Promise<string[]> {
    const receiver = await otlpReceiver();
    const server = await spawnServer({ ...pushingAtShutdown(receiver.url), ...env });
    for (const path of paths) await get(`${server.url}${path}`);
    expect(await server.stop('SIGTERM')).to.equal(0);
    await receiver.close();
    return exportedSpans(receiver.traces).map((span) => span.name ?? '');
  }

  // The instrumentation masks a few presigned-URL names only: `?token=` and `?api_key=`, a
  // client's own credentials, went to the trace store (and to stdout with the console exporter).
  it("masks a request's secret-named query and matrix values in its span, keeping the rest", async () => {
    const receiver = await otlpReceiver();
    const server = await spawnServer(pushingAtShutdown(receiver.url));
    await get(`${server.url}/energy?page=2&token=QTOK-1&API_KEY=QKEY-2&%74oken=QTOK-3&sig=QSIG-4`);
    await get(`${server.url}/energy?page=3`);
    await get(`${server.url}/energy;token=QMTX-5?page=4`);
    expect(await server.stop('SIGTERM')).to.equal(0);
    await receiver.close();
    const queries = exportedSpans(receiver.traces)
      .filter((span) => span.name === 'GET /energy')
      .map((span) => span.attributes?.find((a) => a.key === 'url.query')?.value?.stringValue);
    const spans = exportedSpans(receiver.traces);
    expect(JSON.stringify(spans)).not.to.match(/QTOK|QKEY|QSIG|QMTX/);
    const paths = spans.map((span) => span.attributes?.find((a) => a.key === 'url.path'));
    expect(paths.map((a) => a?.value?.stringValue)).to.include('/energy;token=[redacted]');
    expect(queries).to.have.members([
      'page=2&token=[redacted]&API_KEY=[redacted]&%74oken=[redacted]&sig=[redacted]',
      'page=3',
    ]);
  });

  // The undici instrumentation made a root span of each background read of the exporter, one an
  // interval, KEPLER_METRICS_URL's `?token=` in its url.full: carbonscope's own reads run with
  // tracing suppressed. A fetch a request makes (Electricity Maps for /carbon_intensity) keeps its
  // span, in that request's trace, with the base URL's `?token=` masked.
  it("records no span of an energy exporter's reads; a request's fetch keeps its own, masked", async () => {
    const receiver = await otlpReceiver();
    let reads = 0;
    const kepler = createServer((_req, res) => {
      reads++;
      res.end('# no series\n');
    });
    kepler.listen(0, '127.0.0.1');
    await once(kepler, 'listening');
    const { port } = kepler.address() as AddressInfo;
    const key = 'em-traced-key-7c41d2';
    const electricityMaps = new StubElectricityMaps(key);
    const base = await electricityMaps.start();
    const server = await spawnServer({
      ...pushingAtShutdown(receiver.url),
      ENERGY_SOURCE: 'kepler',
      KEPLER_METRICS_URL: `http://127.0.0.1:${port}/metrics?token=KTOK-7&node=a`,
      KEPLER_CONTAINER_ID: '0123456789ab',
      ENERGY_EXPORTER_INTERVAL_MS: '200',
      ELECTRICITY_MAPS_API_KEY: key,
      ELECTRICITY_MAPS_BASE_URL: `${base}?token=ETOK-8`,
      CARBON_ZONE: 'DE',
    });
    await waitFor('two reads of the exporter', async () => reads >= 2, 10_000);
    // Another zone than the meter's: looked up for this request, not answered from memory.
    expect((await get(`${server.url}/carbon_intensity?zone=FR`)).status).to.equal(200);
    expect(await server.stop('SIGTERM')).to.equal(0);
    kepler.close();
    await electricityMaps.close();
    await receiver.close();
    const spans = exportedSpans(receiver.traces);
    const fetches = spans.filter((span) => span.kind === SPAN_KIND_CLIENT);
    const urls = fetches.map((span) => span.attributes?.find((a) => a.key === 'url.full'));
    expect(urls.map((a) => a?.value?.stringValue)).to.deep.equal([
      `${base}/carbon-intensity/latest?token=[redacted]&zone=FR&emissionFactorType=lifecycle`,
    ]);
    const request = spans.find((span) => span.name === 'GET /carbon_intensity');
    expect(fetches[0]?.traceId).to.equal(request?.traceId);
    expect(JSON.stringify(spans)).not.to.match(/KTOK-7|ETOK-8/);
    expect(electricityMaps.calls.map((c) => c.zone)).to.include.members(['DE', 'FR']);
  });

  it('leaves health probes and metric scrapes out of the traces, unless TRACE_IGNORED_PATHS is set', async () => {
    const paths = ['/healthz', '/readyz?x=1', '/metrics', '/energy'];
    const byDefault = await spanNames(paths);
    expect(byDefault).to.include.members(['GET /energy', 'router - /energy']);
    expect(byDefault.filter((name) => /healthz|readyz|metrics/.test(name))).to.deep.equal([]);
    const everyPath = await spanNames(paths, { TRACE_IGNORED_PATHS: 'none' });
    expect(everyPath).to.include.members(['GET /healthz', 'GET /readyz', 'GET /metrics']);
  });
});

// A key of 1 or 2 characters is not masked in log lines (it would take every such pair of
// letters): the service says so at the start, in a line that does not quote it.
describe('a short LLM_API_KEY', function () {
  this.timeout(30_000);

  const warning = /^LLM_API_KEY has fewer than 3 characters, too few to mask in log lines/;

  /** The warn lines' messages of a service started with `key`, and all it wrote. */
  async function startedWith(key: string): Promise<{ warned: string[]; output: string }> {
    const server = await spawnServer({ OTEL_TRACES_EXPORTER: 'none', LLM_API_KEY: key });
    await server.stop('SIGTERM');
    const warned = server.stdout
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level?: number; msg?: string })
      .filter((l) => l.level === 40)
      .map((l) => l.msg ?? '');
    return { warned, output: [...server.stdout, ...server.stderr].join('\n') };
  }

  it('is warned of once at the start, the key itself shown nowhere', async () => {
    const key = 'Zq';
    const { warned, output } = await startedWith(key);
    expect(warned.filter((m) => warning.test(m))).to.have.length(1);
    expect(output).not.to.include(key);
  });

  it('of 3 characters, is not warned of', async () => {
    const { warned } = await startedWith('Zq7');
    expect(warned.filter((m) => /LLM_API_KEY/.test(m))).to.deep.equal([]);
  });
});

describe('start-up failures', function () {
  this.timeout(30_000);

  for (const [variable, value] of [
    ['PORT', 'abc'],
    ['PUE', '-1'],
    ['CARBON_ZONE', 'UK'],
    ['PORT', '0x1F41'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['GRID_STALE_MAX_AGE_SECONDS', '3h'],
    // Checked against the model data once the service is assembling, not by the config schema.
    ['LLM_PROVIDER', 'opneai'],
    ['LLM_MODEL', 'gpt-imaginary'],
    ['LLM_ELECTRICITY_MIX_ZONE', 'XYZ'],
    ['LLM_MODELS_FILE', '/nonexistent/models.json'],
    // Read whole, /dev/zero hung the start (it ended in an out-of-memory abort).
    ['LLM_MODELS_FILE', '/dev/zero'],
    // The OTel SDK dropped these silently.
    ['OTEL_EXPORTER_OTLP_HEADERS', 'authorization'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'team=a=b'],
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'gz'],
  ] as const) {
    it(`exits 1 naming ${variable} when ${variable}=${value}`, async () => {
      const { code, stderr } = await runToExit({ [variable]: value });
      expect(code).to.equal(1);
      expect(stderr).to.include(variable);
      expect(stderr.trim().split('\n')).to.have.length(1);
      expect(stderr).not.to.match(/\n\s+at /);
    });
  }

  // The file's text is quoted in the error: an escape sequence in it is shown, not run.
  it('writes control characters in a start-up error as escapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-models-'));
    try {
      const file = join(dir, 'models.json');
      writeFileSync(file, 'x\u001b[2J');
      const { code, stderr } = await runToExit({ LLM_MODELS_FILE: file });
      expect(code).to.equal(1);
      expect(stderr).to.include('LLM_MODELS_FILE');
      expect(stderr).to.include('x\\u001b[2J');
      expect(stderr.replace(/\n$/, '')).not.to.match(/\p{Cc}/u);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

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
  const root = tempDirUntilExit('carbonscope-powercap-');

  after(() => rmSync(root, { recursive: true, force: true }));

  it('reports rapl power, not the estimate, on /energy and /metrics', async () => {
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
    // The counters move by a known step, not in real time: a ticker that wrote them every 20 ms
    // was starved on a loaded machine (0.44 W where 6 W ran), and on the wall clock a VM's resume
    // put 200 W in one sample. The service reads 0 at its start, then 6 J and 2 J.
    const server = await spawnServer({
      ENERGY_POWERCAP_ROOT: root,
      ENERGY_SAMPLE_INTERVAL_MS: '250',
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      const read = async () =>
        (await (await fetch(`${server.url}/energy`)).json()) as {
          samples: number;
          sources: Array<{ name: string; estimated: boolean }>;
          power: Array<{
            scope: string;
            component: string;
            source: string;
            estimated: boolean;
            watts: number;
            joules: number;
          }>;
        };
      await read();
      counters['intel-rapl:0'] = 6e6;
      counters['intel-rapl:0:0'] = 2e6;
      write();
      // Counted from an answer asked after the step: a sample reads both files in one turn, so
      // the next one reads the step and the one after finds the counters still. Counted from
      // before it, the samples of a stall between that answer and the step (a loaded machine)
      // were among the two, and the step was not read yet (0 J).
      const after = (await read()).samples;
      let energy = await read();
      await waitFor('two samples past the step', async () => {
        energy = await read();
        return energy.samples >= after + 2;
      });
      expect(energy.sources[0]).to.include({ name: 'rapl', estimated: false });
      const host = (component: string) =>
        energy.power.find((p) => p.scope === 'host' && p.component === component);
      expect(host('package')).to.include({ source: 'rapl', estimated: false, joules: 6 });
      expect(host('dram')).to.include({ source: 'rapl', estimated: false, joules: 2 });
      // Counters that stand still: no power, where the estimate would say some.
      expect([host('package')?.watts, host('dram')?.watts]).to.deep.equal([0, 0]);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const joules = (hw_type: string, hw_id: string) =>
        findSample(text, 'hw_energy_joules_total', {
          hw_type,
          hw_id,
          carbonscope_power_source: 'rapl',
          carbonscope_estimated: 'false',
        });
      expect([joules('cpu', 'package'), joules('memory', 'dram')]).to.deep.equal([6, 2]);
      expect(server.stdout.join('\n')).to.match(/energy source: rapl/);
    } finally {
      await server.stop();
    }
  });
});

describe('a grid that recovers from its fallback', function () {
  this.timeout(60_000);
  const key = 'em-recovery-key-5b2c91';
  const stub = new StubElectricityMaps(key);

  before(() => stub.start());
  after(() => stub.close());

  // The gauge kept the fallback's series at its last value beside the API's, for good: the
  // GridIntensityDegradedToFallback alert fired 15 min after a recovery and never cleared.
  it('serves only the electricity-maps series on /metrics once Electricity Maps answers', async () => {
    stub.next(...Array.from({ length: 200 }, () => ({ status: 500 })));
    const server = await spawnServer({
      ELECTRICITY_MAPS_API_KEY: key,
      ELECTRICITY_MAPS_BASE_URL: stub.url,
      CARBON_ZONE: 'DE',
      // A failed lookup is held for the TTL (30 s at most) before the next one.
      GRID_CACHE_TTL_SECONDS: '1',
      OTEL_TRACES_EXPORTER: 'none',
    });
    const sources = async () =>
      samplesOf(
        await (await fetch(`${server.url}/metrics`)).text(),
        'carbonscope_grid_carbon_intensity',
        { carbonscope_grid_zone: 'DE' },
      ).map((s) => s.labels.carbonscope_grid_source);
    try {
      expect(await poll(async () => (await sources()).includes('annual-average'), 20_000)).to.equal(
        true,
      );
      stub.reset();
      expect(
        await poll(async () => (await sources()).includes('electricity-maps'), 20_000),
      ).to.equal(true);
      expect(await sources()).to.deep.equal(['electricity-maps']);
    } finally {
      await server.stop();
    }
  });
});
