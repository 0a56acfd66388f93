import dns from 'node:dns';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  get as httpGet,
  type IncomingMessage,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { diag } from '@opentelemetry/api';
import { getNumberFromEnv } from '@opentelemetry/core';
import { expect } from 'chai';
import { type Logger, stderrLogger } from '../../../src/log.js';
import { startOwnProvider } from '../../../src/otel/own-provider.js';
import { type Env, SettingsError } from '../../../src/settings.js';
import { otlpReceiver, stringAttribute } from '../../helpers/otlp-receiver.js';
import { freePorts } from '../../helpers/ports.js';
import { withEnv } from '../../helpers/with-env.js';

/** A gauge on `provider` observing the one source `state.source` names at each collection. */
function probe(provider: import('@opentelemetry/api').MeterProvider) {
  const state = { source: 'annual-average' };
  provider
    .getMeter('test')
    .createObservableGauge('probe.intensity')
    .addCallback((result) => result.observe(1, { source: state.source }));
  return state;
}

const quiet = stderrLogger({ level: 'silent' });

/** register's own provider serving Prometheus on a free port, and its endpoint's URL. */
async function prometheusProvider(logger: Logger, env: Env = {}) {
  const own = await startOwnProvider(
    { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0', ...env },
    logger,
  );
  if (!own) throw new Error('no provider started');
  const [server] = own.servers;
  if (!server) {
    await own.shutdown();
    throw new Error('no Prometheus endpoint');
  }
  if (!server.listening) await new Promise((r) => server.once('listening', r));
  return { own, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
}

/**
 * The warnings register's own provider says at start, pushing OTLP (never, in the test's hour)
 * to a receiver, with `env` added.
 */
async function otlpStartWarnings(env: Env): Promise<string[]> {
  const receiver = await otlpReceiver();
  const lines: string[] = [];
  const logger = stderrLogger({ level: 'warn', write: (line) => lines.push(line) });
  const own = await startOwnProvider(
    {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      ...env,
    },
    logger,
  );
  try {
    if (!own) throw new Error('no provider started');
    return lines;
  } finally {
    diag.disable();
    await own?.shutdown();
    await receiver.close();
  }
}

describe("register's own meter provider: a gauge's series are what its callback observes now", () => {
  it('at its Prometheus endpoint', async () => {
    const { own, url } = await prometheusProvider(quiet);
    try {
      const lines = async () =>
        (await (await fetch(url)).text()).split('\n').filter((l) => l.startsWith('probe_'));
      const state = probe(own.provider);
      expect(await lines()).to.deep.equal(['probe_intensity{source="annual-average"} 1']);
      state.source = 'electricity-maps';
      expect(await lines()).to.deep.equal(['probe_intensity{source="electricity-maps"} 1']);
    } finally {
      await own.shutdown();
    }
  });

  // Port 0 is taken (tests use it), and the OS picks a port nothing else reported: a scraper
  // could not be pointed at the endpoint. At warn, the level a user sees by default.
  it('says once which port the OS chose where OTEL_EXPORTER_PROMETHEUS_PORT is 0', async () => {
    const lines: string[] = [];
    const logger = stderrLogger({ level: 'warn', write: (line) => lines.push(line) });
    const { own, url } = await prometheusProvider(logger, {
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    });
    try {
      expect(lines).to.deep.equal([
        `carbonscope: warning: OTEL_EXPORTER_PROMETHEUS_PORT=0: the Prometheus endpoint is ${url}, on a port the OS chose (a scraper needs a fixed one)\n`,
      ]);
      expect((await fetch(url)).status).to.equal(200);
    } finally {
      await own.shutdown();
    }
    const [port] = await freePorts(1);
    const fixed = await prometheusProvider(logger, { OTEL_EXPORTER_PROMETHEUS_PORT: String(port) });
    await fixed.own.shutdown();
    expect(lines, 'a fixed port is not told of').to.have.length(1);
  });

  it('says why a collection for its Prometheus endpoint failed, in the line stderr shows', async () => {
    const lines: string[] = [];
    const logger = stderrLogger({ level: 'error', write: (line) => lines.push(line) });
    const { own, url } = await prometheusProvider(logger);
    try {
      // Its reader shut down under a server still listening: each collection is refused.
      await own.provider.shutdown();
      expect((await fetch(url)).status).to.equal(500);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/Prometheus endpoint: metrics collection failed: .*shut ?down/i);
    } finally {
      await own.shutdown();
    }
  });

  it('says in one line each which variable the SDK reads itself is malformed, never a header value', async () => {
    const lines = await otlpStartWarnings({
      OTEL_LOG_LEVEL: 'verbos',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=shop,deployment.environment',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer sekrit-token;v2',
    });
    const named = (variable: string) => lines.filter((l) => l.includes(`${variable}:`));
    expect(named('OTEL_LOG_LEVEL')).to.have.length(1);
    expect(named('OTEL_RESOURCE_ATTRIBUTES')).to.have.length(1);
    expect(named('OTEL_RESOURCE_ATTRIBUTES')[0]).to.include(
      'OTEL_RESOURCE_ATTRIBUTES: item 2 has no "=" (expected key=value); the SDK drops every attribute it sets',
    );
    expect(named('OTEL_EXPORTER_OTLP_HEADERS')).to.have.length(1);
    expect(lines.join('')).not.to.include('sekrit');
  });

  // The exporter appends v1/metrics to the endpoint as written: after a query (a collector's
  // token) or a fragment, so every push went to the path before it, the token ended in
  // /v1/metrics, and the only sign was a collector's 404 at the endpoint as set.
  it("says in one line that v1/metrics lands in the base endpoint's query or fragment, never the token", async () => {
    const line = (after: string) =>
      `carbonscope: warning: OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/metrics after its ${after}, so metrics are pushed to the path before it, not to …/v1/metrics; set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to the full URL instead (the exporter takes it as given)\n`;
    const base = 'http://127.0.0.1:4318/otlp';
    const query = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-3`,
    });
    expect(query).to.deep.equal([line('query')]);
    const bareQuery = await otlpStartWarnings({ OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/?` });
    expect(bareQuery).to.deep.equal([line('query')]);
    const fragment = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-3#part`,
    });
    expect(fragment).to.deep.equal([line('fragment')]);
    // The metrics endpoint is used as given, and a plain path gets v1/metrics after it.
    const given = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-3`,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${base}/v1/metrics?token=QUERY-SECRET-3`,
    });
    expect(given).to.deep.equal([]);
    expect(await otlpStartWarnings({ OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/` })).to.deep.equal([]);
    // Userinfo and a percent-encoded token are no more quoted than a plain one.
    const userinfo = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://USER-SECRET:PW-SECRET@127.0.0.1:4318/?t=%51-SECRET',
    });
    expect(userinfo).to.deep.equal([line('query')]);
  });

  // A base endpoint that already ends in /v1/metrics, with a collector's token as its query: the
  // pushes reached /v1/metrics with the token ending in '/v1/metrics', and nothing was said.
  it('says in one line that v1/metrics lands in the last value of a query after …/v1/metrics', async () => {
    const base = 'http://127.0.0.1:4318/otlp/v1/metrics';
    const query = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-4`,
    });
    expect(query).to.deep.equal([
      "carbonscope: warning: OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/metrics after its query, so its last value ends in /v1/metrics (a collector's token no longer matches); set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to the full URL instead (the exporter takes it as given)\n",
    ]);
    // A fragment is not sent: the query before it reaches the collector as written.
    const fragment = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-4#part`,
    });
    expect(fragment).to.deep.equal([]);
  });

  // The exporter leaves out a TLS file it cannot read, and Node takes a client certificate
  // without its key, each without a word: every https push then failed on its handshake.
  it('says in one line each which OTLP TLS file it cannot use, never what a key file holds', async () => {
    const lines = await otlpStartWarnings({
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: '/nonexistent/collector-ca.pem',
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/nonexistent/client.pem',
    });
    expect(lines).to.deep.equal([
      'carbonscope: warning: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: cannot read /nonexistent/collector-ca.pem (ENOENT); the exporter pushes without it\n',
      'carbonscope: warning: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cannot read /nonexistent/client.pem (ENOENT); the exporter pushes without it\n',
      'carbonscope: warning: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: set without OTEL_EXPORTER_OTLP_CLIENT_KEY: no client certificate is sent\n',
    ]);
  });

  // The OTel spec's variable for an OTLP exporter's histograms; OTel JS's exporter does not read
  // it, and carbonscope's histograms have buckets of their own: they were pushed explicit
  // without a word to the user who asked for exponential ones.
  it('says once that its histograms stay explicit under an exponential default aggregation', async () => {
    const variable = 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION';
    const lines = await otlpStartWarnings({ [variable]: 'base2_exponential_bucket_histogram' });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^carbonscope: warning: OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram: carbonscope's histograms are pushed with explicit buckets/,
    );
    const unknown = await otlpStartWarnings({ [variable]: 'base2' });
    expect(unknown).to.deep.equal([
      `carbonscope: warning: ${variable}: unknown value "base2" ignored (expected explicit_bucket_histogram or base2_exponential_bucket_histogram)\n`,
    ]);
    expect(await otlpStartWarnings({ [variable]: 'explicit_bucket_histogram' })).to.deep.equal([]);
    expect(await otlpStartWarnings({ [variable]: '' })).to.deep.equal([]);
  });

  // A stderr line that wraps reads as two, the second with no `carbonscope:` to say whose.
  it("says why a collection failed in one line, with the settings' secrets masked", async () => {
    const lines: string[] = [];
    const logger = stderrLogger({ level: 'error', write: (line) => lines.push(line) });
    const key = 'em-secret-key-0123456789';
    const { own, url } = await prometheusProvider(logger, { ELECTRICITY_MAPS_API_KEY: key });
    try {
      // A producer the reader reads (carbonscope's histograms) failing, its reason on two lines.
      own.histograms.collect = async () => {
        throw new Error(`grid answered 401\r\nfor auth-token ${key}`);
      };
      expect((await fetch(url)).status).to.equal(500);
      expect(lines).to.have.length(1);
      expect(lines[0]?.trimEnd().split(/[\r\n]/)).to.have.length(1);
      expect(lines[0]).to.include('grid answered 401');
      expect(lines[0]).to.not.include(key);
    } finally {
      await own.shutdown();
    }
  });

  it('in its OTLP push', async () => {
    const receiver = await otlpReceiver();
    // The OTLP exporter reads its endpoint from the process's environment itself.
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const own = await startOwnProvider(
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '3600000' },
      quiet,
    ).finally(() => {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    });
    if (!own) throw new Error('no provider started');
    try {
      const state = probe(own.provider);
      await own.provider.forceFlush();
      state.source = 'electricity-maps';
      await own.provider.forceFlush();
      const sources = receiver.pushes.map(({ body }) =>
        body.resourceMetrics
          .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
          .flatMap((m) => m.gauge?.dataPoints ?? [])
          .map((p) => stringAttribute(p.attributes, 'source')),
      );
      expect(sources).to.deep.equal([['annual-average'], ['electricity-maps']]);
    } finally {
      await own.shutdown();
      await receiver.close();
    }
  });
});

describe("register's own meter provider: its Prometheus endpoint's methods", () => {
  it('answers GET and HEAD with the exposition, and another method 405 naming them', async () => {
    const { own, url } = await prometheusProvider(quiet);
    try {
      const get = await fetch(url);
      expect(get.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
      expect(await get.text()).to.include('# TYPE target_info gauge');
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(head.headers.get('content-type')).to.equal(get.headers.get('content-type'));
      // A method that is no read is no scrape: the service's /metrics answers it 405 too.
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const res = await fetch(url, { method, body: method === 'DELETE' ? undefined : 'x' });
        expect(res.status, method).to.equal(405);
        expect(res.headers.get('allow'), method).to.equal('GET, HEAD');
        expect(await res.text(), method).not.to.include('target_info');
      }
      // OPTIONS asks what the path takes: answered as the service's /metrics answers it (its
      // router's 200 with Allow), not refused, and nothing is collected for it.
      const options = await fetch(url, { method: 'OPTIONS' });
      expect(options.status).to.equal(200);
      expect(options.headers.get('allow')).to.equal('GET, HEAD');
      expect(await options.text()).to.equal('');
    } finally {
      await own.shutdown();
    }
  });

  // RFC 9112 has a server accept a target in absolute form (`GET http://host:9464/metrics`), as a
  // client sends to a proxy: it was answered 404, "metrics are at /metrics".
  it('serves /metrics named by a target in absolute form, and 404 another path so named', async () => {
    const { own, url } = await prometheusProvider(quiet);
    const { hostname, port, origin } = new URL(url);
    const statusOf = (path: string) =>
      new Promise<number | undefined>((resolve, reject) =>
        httpGet({ hostname, port, path }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject),
      );
    try {
      expect(await statusOf(url)).to.equal(200);
      expect(await statusOf(`${url}?debug=1`)).to.equal(200);
      expect(await statusOf(`${origin.toUpperCase()}/metrics`)).to.equal(200);
      expect(await statusOf(`${origin}/other`)).to.equal(404);
      expect(await statusOf(`${origin}/metrics/`)).to.equal(404);
      expect(await statusOf(origin)).to.equal(404);
      // A user name in the target is an error to RFC 9110 (4.2.4), as at the service's /metrics.
      expect(await statusOf(`http://u:SECRET@${hostname}:${port}/metrics`)).to.equal(404);
      expect(await statusOf(`http://@${hostname}/metrics`)).to.equal(404);
    } finally {
      await own.shutdown();
    }
  });
});

describe("register's own meter provider: its Prometheus endpoint's encoding", () => {
  /** One GET with node:http, which (unlike fetch) neither asks for nor undoes an encoding. */
  async function rawGet(url: string, headers: Record<string, string>) {
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      httpGet(url, { headers }, resolve).on('error', reject),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { headers: res.headers, body: Buffer.concat(chunks) };
  }

  it('serves gzip to a scrape that asks for it (Prometheus does), plain bytes otherwise', async () => {
    const { own, url } = await prometheusProvider(quiet);
    try {
      const zipped = await rawGet(url, { 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).to.equal('gzip');
      expect(zipped.headers.vary).to.equal('Accept-Encoding');
      expect(Number(zipped.headers['content-length'])).to.equal(zipped.body.length);
      const text = gunzipSync(zipped.body).toString('utf8');
      expect(text).to.include('# TYPE target_info gauge');
      const plain = await rawGet(url, {});
      expect(plain.headers['content-encoding']).to.equal(undefined);
      expect(plain.headers.vary).to.equal('Accept-Encoding');
      expect(plain.body.toString('utf8')).to.include('# TYPE target_info gauge');
      const refused = await rawGet(url, { 'accept-encoding': 'gzip;q=0, identity' });
      expect(refused.headers['content-encoding']).to.equal(undefined);
    } finally {
      await own.shutdown();
    }
  });
});

describe("register's own meter provider: a collector whose name does not resolve for a moment", () => {
  // ENOTFOUND is final for the last push alone (lastPushAgents): during the run, a name that does
  // not resolve for a moment (a DNS record not yet there) is retried within the push, as the
  // exporter retries it, and the push gets through.
  it('retries a periodic push whose name did not resolve, and pushes last', async () => {
    const receiver = await otlpReceiver();
    const port = new URL(receiver.url).port;
    let failures = 1;
    const lookup = dns.lookup;
    const patched = (host: string, options: unknown, done?: unknown) => {
      const callback = (typeof options === 'function' ? options : done) as (
        err: Error | null,
        address?: unknown,
        family?: number,
      ) => void;
      if (host !== 'collector.test') return Reflect.apply(lookup, dns, [host, options, done]);
      const all = typeof options === 'object' && (options as { all?: boolean }).all;
      process.nextTick(() => {
        if (failures > 0) {
          failures--;
          const err = Object.assign(new Error('getaddrinfo ENOTFOUND collector.test'), {
            code: 'ENOTFOUND',
          });
          callback(err);
        } else if (all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      });
    };
    dns.lookup = patched as typeof dns.lookup;
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://collector.test:${port}`;
    const env = {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
    };
    const own = await startOwnProvider(env, quiet).finally(() => {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    });
    try {
      if (!own) throw new Error('no provider started');
      probe(own.provider);
      await own.provider.forceFlush();
      expect(failures).to.equal(0);
      expect(receiver.pushes).to.have.length(1);
      await own.shutdown();
      expect(receiver.pushes).to.have.length(2);
    } finally {
      dns.lookup = lookup;
      await receiver.close();
    }
  });
});

describe("register's own meter provider: its periodic readers' times", () => {
  it('warns once of a timeout over the interval, not once per reader (otlp,console)', async () => {
    const lines: string[] = [];
    const at = (level: string) => (text: unknown) => lines.push(`${level}: ${String(text)}`);
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const own = await startOwnProvider(
      {
        OTEL_METRICS_EXPORTER: 'otlp,console',
        OTEL_METRIC_EXPORT_INTERVAL: '300000',
        OTEL_METRIC_EXPORT_TIMEOUT: '600000',
      },
      logger,
    );
    if (!own) throw new Error('no provider started');
    // Stops the readers without a push: none goes anywhere.
    await own.handOver();
    expect(lines.filter((l) => l.startsWith('warn:'))).to.deep.equal([
      'warn: OTEL_METRIC_EXPORT_TIMEOUT: 600000 ms is over OTEL_METRIC_EXPORT_INTERVAL (300000): the interval is used',
    ]);
  });

  it('reads the interval and timeout in any form NodeSDK reads them (Number(): 3e5, 0x927c0)', async () => {
    // NodeSDK's periodic reader takes both as 300000 and 600000; register refused 3e5 at start.
    const env = { OTEL_METRIC_EXPORT_INTERVAL: '3e5', OTEL_METRIC_EXPORT_TIMEOUT: '0x927c0' };
    const sdk = withEnv(env, () => Object.keys(env).map((k) => getNumberFromEnv(k)));
    expect(sdk).to.deep.equal([300_000, 600_000]);
    const lines: string[] = [];
    const warn = (text: unknown) => lines.push(String(text));
    const logger = { debug: () => {}, info: () => {}, warn, error: warn };
    const own = await startOwnProvider({ OTEL_METRICS_EXPORTER: 'console', ...env }, logger);
    if (!own) throw new Error('no provider started');
    await own.handOver();
    // The value read, then the text as written: 0x927c0 alone left the reader to convert it.
    expect(lines).to.deep.equal([
      'OTEL_METRIC_EXPORT_TIMEOUT: 600000 ms (0x927c0) is over OTEL_METRIC_EXPORT_INTERVAL (300000): the interval is used',
    ]);
  });

  // The service's refusal said so; register's warning gave the 60000 alone, as if it were set.
  it('says the interval is its default where it is unset, as the service does', async () => {
    const lines: string[] = [];
    const warn = (text: unknown) => lines.push(String(text));
    const logger = { debug: () => {}, info: () => {}, warn, error: warn };
    const env = { OTEL_METRICS_EXPORTER: 'console', OTEL_METRIC_EXPORT_TIMEOUT: '90000' };
    const own = await startOwnProvider(env, logger);
    if (!own) throw new Error('no provider started');
    await own.handOver();
    expect(lines).to.deep.equal([
      'OTEL_METRIC_EXPORT_TIMEOUT: 90000 ms is over OTEL_METRIC_EXPORT_INTERVAL (60000, its default): the interval is used',
    ]);
  });
});

/**
 * Another service on one port of each of `hosts` (two services on one host both on 9464): it
 * answers 503. The port was free on each before.
 */
async function heldPort(hosts: readonly string[]): Promise<{ port: number; release(): void }> {
  for (let tries = 1; ; tries++) {
    const held: HttpServer[] = [];
    const release = () => {
      for (const server of held) server.close();
    };
    try {
      let port = 0;
      for (const host of hosts) {
        const server = createHttpServer((_req, res) => res.writeHead(503).end());
        held.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject).listen(port, host, resolve);
        });
        port = (server.address() as AddressInfo).port;
      }
      return { port, release };
    } catch (err) {
      // The port the OS gave on the first host is taken on another: another port.
      release();
      if (tries === 5) throw err;
    }
  }
}

/**
 * The one line register's Prometheus endpoint writes where its port on `host` is taken, and that
 * port.
 */
async function refusedOnATakenPort(
  host: string,
): Promise<{ line: string | undefined; port: number }> {
  const { port, release } = await heldPort([host]);
  const lines: string[] = [];
  const logger = stderrLogger({ level: 'warn', write: (l) => lines.push(l) });
  const own = await startOwnProvider(
    {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: host,
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    },
    logger,
  );
  try {
    for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lines).to.have.length(1);
    return { line: lines[0], port };
  } finally {
    await own?.shutdown();
    release();
  }
}

describe("register's own meter provider: a Prometheus endpoint that cannot listen", () => {
  // Two services on one host both on 9464: the line said "could not listen on localhost:9464"
  // and no more, the reason (in the line's fields, which the stderr logger does not print) and
  // the variable to change left out.
  it('says why in its line, and which variables set the address', async () => {
    const { line, port } = await refusedOnATakenPort('127.0.0.1');
    expect(line).to.match(
      new RegExp(
        `^carbonscope: error: Prometheus endpoint could not listen on 127\\.0\\.0\\.1:${port} ` +
          '\\(OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT\\): .*EADDRINUSE',
      ),
    );
  });
});

describe("register's own meter provider: a Prometheus endpoint on IPv6", () => {
  // OTEL_EXPORTER_PROMETHEUS_HOST=::1 on a taken port: the line said "could not listen on
  // ::1:9464", an address nobody can tell the port of, where a URL writes [::1]:9464.
  it('writes an IPv6 host in brackets in its refusal line', async () => {
    const { line, port } = await refusedOnATakenPort('::1');
    expect(line).to.include(`could not listen on [::1]:${port} (OTEL_EXPORTER_PROMETHEUS_HOST`);
  });

  // The host as a URL writes it ([::1], what the scrape config and curl are given): it was
  // looked up as a name, ENOTFOUND, and the application ran with no endpoint.
  it('listens on a host given in brackets, as a URL writes it', async () => {
    const [port] = await freePorts(1);
    const lines: string[] = [];
    const logger = stderrLogger({ level: 'warn', write: (l) => lines.push(l) });
    const own = await startOwnProvider(
      {
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '[::1]',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      },
      logger,
    );
    try {
      let status: number | string = 'no answer';
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await fetch(`http://[::1]:${port}/metrics`).then(
          (res) => res.status,
          (e: { cause?: { code?: string } }) => e.cause?.code ?? 'failed',
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 20));
      }
      expect({ status, lines }).to.deep.equal({ status: 200, lines: [] });
    } finally {
      await own?.shutdown();
    }
  });
});

/** How `url` answers a scrape: its status, or the connection's error code. */
async function scrapeStatus(url: string): Promise<number | string> {
  return fetch(url).then(
    (res) => res.status,
    (e: { cause?: { code?: string } }) => e.cause?.code ?? 'failed',
  );
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string,
  family?: number,
) => void;

/**
 * Runs `run` with dns.lookup, which Node's listen calls for every host (an address too), given
 * to `patch` with each name it is asked, and the callback; Node's own where `patch` says false.
 */
async function withLookup<T>(
  patch: (name: string, callback: LookupCallback) => boolean,
  run: () => Promise<T>,
): Promise<T> {
  const lookup = dns.lookup;
  const patched = (name: string, options: unknown, done?: unknown) => {
    const callback = (typeof options === 'function' ? options : done) as LookupCallback;
    if (!patch(name, callback)) return Reflect.apply(lookup, dns, [name, options, done]);
  };
  dns.lookup = patched as typeof dns.lookup;
  try {
    return await run();
  } finally {
    dns.lookup = lookup;
  }
}

/** Runs `run` with a listen on `host` failing with `code` (a host without that loopback). */
function withListenFailure<T>(host: string, code: string, run: () => Promise<T>): Promise<T> {
  return withLookup((name, callback) => {
    if (name !== host) return false;
    const err = Object.assign(new Error(`listen ${code}: injected ${host}`), { code });
    process.nextTick(() => callback(Object.assign(err, { syscall: 'listen', address: host })));
    return true;
  }, run);
}

/**
 * What each loopback answers where register serves Prometheus on `env`'s port with its default
 * host, once `until.serving` of its listeners listen and it said `until.lines` lines (2 s at
 * most); and the lines it said, its port written PORT.
 */
async function loopbackAnswers(
  env: Env,
  until: { serving: number; lines: number },
): Promise<{ v4: number | string; v6: number | string; lines: string[] }> {
  const lines: string[] = [];
  const logger = stderrLogger({ level: 'warn', write: (l) => lines.push(l) });
  const own = await startOwnProvider({ OTEL_METRICS_EXPORTER: 'prometheus', ...env }, logger);
  try {
    if (!own) throw new Error('no provider started');
    const serving = () => own.servers.filter((s) => s.listening);
    const waiting = () => serving().length < until.serving || lines.length < until.lines;
    for (let i = 0; i < 100 && waiting(); i++) await new Promise((r) => setTimeout(r, 20));
    // A line said after those awaited (a second where one was due) is said by now.
    await new Promise((r) => setTimeout(r, 50));
    const [server] = serving();
    const asked = Number(env.OTEL_EXPORTER_PROMETHEUS_PORT);
    const port = server ? (server.address() as AddressInfo).port : asked;
    const v4 = await scrapeStatus(`http://127.0.0.1:${port}/metrics`);
    const v6 = await scrapeStatus(`http://[::1]:${port}/metrics`);
    const said = port === 0 ? lines : lines.map((l) => l.replaceAll(String(port), 'PORT'));
    return { v4, v6, lines: said };
  } finally {
    await own?.shutdown();
  }
}

/** What register says once the OS chose the endpoint's port, the port written PORT. */
const CHOSEN_PORT =
  'carbonscope: warning: OTEL_EXPORTER_PROMETHEUS_PORT=0: the Prometheus endpoint is http://localhost:PORT/metrics, on a port the OS chose (a scraper needs a fixed one)\n';

describe("register's own meter provider: a Prometheus endpoint on localhost, its default", () => {
  // Served where `localhost` resolved first until stop 81: 127.0.0.1 here, ::1 on a host whose
  // /etc/hosts or --dns-result-order puts it first, and a scraper given the other family's
  // address (a Prometheus scraping 127.0.0.1:9464) found nothing there. Each loopback is listened
  // on by its address now: the name is never looked up, so no host's order can leave one out.
  it('answers on both loopbacks, listening on each by its address, never looking localhost up', async () => {
    const [port] = await freePorts(1);
    // Port 0 too, each loopback on the one port the OS chose.
    for (const asked of [String(port), '0']) {
      const env = { OTEL_EXPORTER_PROMETHEUS_PORT: asked };
      const until = { serving: 2, lines: asked === '0' ? 1 : 0 };
      const looked: string[] = [];
      const record = (name: string) => {
        looked.push(name);
        return false;
      };
      const answers = await withLookup(record, () => loopbackAnswers(env, until));
      expect({ ...answers, looked: [...new Set(looked)] }, asked).to.deep.equal({
        v4: 200,
        v6: 200,
        lines: asked === '0' ? [CHOSEN_PORT] : [],
        looked: ['127.0.0.1', '::1'],
      });
    }
  });

  // Another service on the port of both loopbacks: a line for each, where the one reason was
  // said twice, as if they were two endpoints.
  it('says in one line, naming the port and both loopbacks, that another service holds both', async () => {
    const { port, release } = await heldPort(['127.0.0.1', '::1']);
    try {
      const env = { OTEL_EXPORTER_PROMETHEUS_PORT: String(port) };
      expect(await loopbackAnswers(env, { serving: 0, lines: 1 })).to.deep.equal({
        v4: 503,
        v6: 503,
        lines: [
          'carbonscope: error: Prometheus endpoint could not listen on localhost:PORT, neither 127.0.0.1:PORT nor [::1]:PORT (OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT): listen EADDRINUSE: address already in use\n',
        ],
      });
    } finally {
      release();
    }
  });

  // One of the two taken: the other serves, and the line names the one that does not.
  for (const taken of ['127.0.0.1', '::1']) {
    it(`says in a line of its own that another service holds ${taken}'s port, the other serving`, async () => {
      const { port, release } = await heldPort([taken]);
      try {
        const env = { OTEL_EXPORTER_PROMETHEUS_PORT: String(port) };
        const shown = taken === '::1' ? '[::1]:PORT' : '127.0.0.1:PORT';
        const v4Taken = taken === '127.0.0.1';
        expect(await loopbackAnswers(env, { serving: 1, lines: 1 })).to.deep.equal({
          v4: v4Taken ? 503 : 200,
          v6: v4Taken ? 200 : 503,
          lines: [
            `carbonscope: error: Prometheus endpoint could not listen on ${shown} (OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT): listen EADDRINUSE: address already in use ${taken}:PORT\n`,
          ],
        });
      } finally {
        release();
      }
    });
  }

  // A host with IPv6 but no IPv4 loopback, on port 0: the ::1 listener waited for the port
  // 127.0.0.1's got, which never came, and nothing served. It serves, the port the OS chose said.
  it('serves on ::1 alone on a host without 127.0.0.1 on port 0, saying the port', async () => {
    const env = { OTEL_EXPORTER_PROMETHEUS_PORT: '0' };
    const answers = withListenFailure('127.0.0.1', 'EADDRNOTAVAIL', () =>
      loopbackAnswers(env, { serving: 1, lines: 1 }),
    );
    expect(await answers).to.deep.equal({ v4: 'ECONNREFUSED', v6: 200, lines: [CHOSEN_PORT] });
  });

  // On a port of its own, ::1 served, and a line said 127.0.0.1 failed: an error on every start
  // of an endpoint that serves. Quiet, as where ::1 is missing.
  it('serves on ::1 alone on a host without 127.0.0.1 on a set port, saying nothing', async () => {
    const [port] = await freePorts(1);
    const env = { OTEL_EXPORTER_PROMETHEUS_PORT: String(port) };
    const answers = withListenFailure('127.0.0.1', 'EADDRNOTAVAIL', () =>
      loopbackAnswers(env, { serving: 1, lines: 0 }),
    );
    expect(await answers).to.deep.equal({ v4: 'ECONNREFUSED', v6: 200, lines: [] });
  });

  // A host with IPv4 alone: ::1 is no address of it, and a line would be said on every start.
  for (const code of ['EADDRNOTAVAIL', 'EAFNOSUPPORT']) {
    it(`serves on 127.0.0.1 alone on a host without ::1 (${code}), saying nothing of it`, async () => {
      const [port] = await freePorts(1);
      for (const asked of [String(port), '0']) {
        const env = { OTEL_EXPORTER_PROMETHEUS_PORT: asked };
        const until = { serving: 1, lines: asked === '0' ? 1 : 0 };
        const answers = withListenFailure('::1', code, () => loopbackAnswers(env, until));
        expect(await answers, asked).to.deep.equal({
          v4: 200,
          v6: 'ECONNREFUSED',
          lines: asked === '0' ? [CHOSEN_PORT] : [],
        });
      }
    });
  }
});

describe("register's own meter provider: a start that fails after its Prometheus endpoint opened", () => {
  // prometheus,otlp with a malformed OTLP variable: register said the application runs
  // unmetered, and its endpoint stayed up, answering each scrape with a 500 and an error line.
  it('closes the endpoint it opened', async () => {
    const [port] = await freePorts(1);
    const lines: string[] = [];
    const logger = stderrLogger({ level: 'warn', write: (l) => lines.push(l) });
    const started = startOwnProvider(
      {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'deltas',
      },
      logger,
    );
    const err = await started.then(
      async (own) => {
        await own?.shutdown();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SettingsError);
    const scrape = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (res) => `answered ${res.status}`,
      (e: { cause?: { code?: string } }) => e.cause?.code,
    );
    expect(scrape).to.equal('ECONNREFUSED');
    expect(lines).to.deep.equal([]);
  });
});

describe("register's own meter provider: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", () => {
  // The exporter reads a value it does not know ("deltas") as cumulative, with a diag line
  // nobody sees without OTEL_LOG_LEVEL: a collector that wanted delta got cumulative in silence.
  it('refuses a value the exporter would not read, naming the variable', async () => {
    for (const value of ['deltas', 'low-memory', ' delta']) {
      const started = startOwnProvider(
        {
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: value,
        },
        quiet,
      );
      const err = await started.then(
        async (own) => {
          await own?.handOver();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err, value).to.be.instanceOf(SettingsError);
      expect((err as SettingsError).message).to.equal(
        `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: expected cumulative, delta or lowmemory (got ${JSON.stringify(value)})`,
      );
    }
  });

  it('takes what the exporter takes: any case, and empty as unset', async () => {
    for (const value of ['Delta', 'LOWMEMORY', 'cumulative', '', '  ']) {
      const own = await startOwnProvider(
        {
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: value,
        },
        quiet,
      );
      await own?.handOver();
    }
  });
});

describe("register's own meter provider: none beside another exporter", () => {
  // NodeSDK reads none anywhere in the list as no metrics, and so does register: the endpoint
  // the application asked for beside it never came up, without a word.
  it('starts nothing, as NodeSDK, and says so once naming what was left out', async () => {
    const lines: string[] = [];
    const logger = stderrLogger({ level: 'warn', write: (line) => lines.push(line) });
    const own = await startOwnProvider(
      { OTEL_METRICS_EXPORTER: 'none,prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
      logger,
    );
    expect(own).to.equal(undefined);
    expect(lines).to.deep.equal([
      'carbonscope: warning: OTEL_METRICS_EXPORTER: none beside prometheus: no metrics are exported, as NodeSDK reads it; set none alone, or leave it out\n',
    ]);
    lines.length = 0;
    expect(await startOwnProvider({ OTEL_METRICS_EXPORTER: 'none' }, logger)).to.equal(undefined);
    expect(lines).to.be.empty;
  });
});
