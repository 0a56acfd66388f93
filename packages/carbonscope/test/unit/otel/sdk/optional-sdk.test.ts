import { execFileSync, spawnSync } from 'node:child_process';
import { hasSubscribers } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  type Agent,
  createServer,
  Agent as HttpAgent,
  request,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createHttpsServer,
  Agent as HttpsAgent,
  type AgentOptions as HttpsAgentOptions,
  request as httpsRequest,
} from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { redactionList } from '../../../../src/log.js';
import { reportingPushFailures } from '../../../../src/otel/binding/push-failures.js';
import { otlpLastPush } from '../../../../src/otel/last-push.js';
import { lastPushAgents } from '../../../../src/otel/sdk/last-push-agent.js';
import {
  checkSdkVersions,
  type ExportResult,
  exporterOwnRequests,
  exporterPackages,
  failureOf,
  importSdk,
  installedVersion,
  MissingSdkError,
  otlpMetricExporter,
  type PushMetricExporter,
  SdkTooOldError,
  tooOld,
} from '../../../../src/otel/sdk/optional-sdk.js';
import { otlpSecretsOf } from '../../../../src/settings.js';
import { answeringServer } from '../../../helpers/held-loop.js';
import { oneCounterMetrics } from '../../../helpers/metrics.js';
import { memoryLogger } from '../../energy/scripted.js';

describe('the optional SDK packages: the versions its own SDK refuses', () => {
  it("reads the installed package's version, as import() resolves it, and none for no package", () => {
    expect(installedVersion('@opentelemetry/sdk-metrics')).to.match(/^[23]\.\d+\.\d+/);
    expect(installedVersion('@opentelemetry/no-such-package')).to.equal(undefined);
  });

  // Only the 1.x line lacks what it calls (defaultResource): a line newer than the peer ranges
  // was refused too, in a warning that called it the 1.x line, where it may well run.
  it('refuses the 1.x line alone, prereleases by their line', () => {
    const cases: [string, string, boolean][] = [
      ['@opentelemetry/sdk-metrics', '1.30.1', true],
      ['@opentelemetry/resources', '1.30.0-dev.1', true],
      ['@opentelemetry/exporter-prometheus', '0.57.2', true],
      ['@opentelemetry/exporter-metrics-otlp-http', '0.199.0', true],
      ['@opentelemetry/sdk-metrics', '2.0.0-rc.1', false],
      ['@opentelemetry/sdk-metrics', '3.1.0', false],
      ['@opentelemetry/sdk-metrics', '4.0.0', false],
      ['@opentelemetry/exporter-prometheus', '0.200.0', false],
      ['@opentelemetry/exporter-prometheus', '0.400.0', false],
      ['@opentelemetry/exporter-prometheus', '1.0.0', false],
      ['@opentelemetry/sdk-metrics', 'not-a-version', false],
    ];
    for (const [name, version, refused] of cases) {
      expect(tooOld(name, version) !== undefined, `${name} ${version}`).to.equal(refused);
    }
  });
});

// A CommonJS bundle (esbuild's default for node) has no import.meta.resolve: no package.json
// is found, and the own SDK ran on sdk-metrics and resources 1.30 until it failed with
// `resources.defaultResource is not a function; the application runs unmetered`.
describe('the optional SDK packages: their line told by shape where no version is found', () => {
  const names = ['@opentelemetry/sdk-metrics', '@opentelemetry/resources'];
  /** As a bundle has them: no package.json to read a version from. */
  const bundled = () => undefined;

  it('refuses modules of the 1.x line by what they lack, naming the line', () => {
    const metrics1x = {
      MeterProvider: class MeterProvider {
        addMetricReader() {}
      },
    };
    const resources1x = { Resource: class Resource {} };
    let thrown: unknown;
    try {
      checkSdkVersions(names, 'OTEL_METRICS_EXPORTER=otlp', [metrics1x, resources1x], bundled);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(SdkTooOldError);
    const message = (thrown as Error).message;
    expect(message).to.include(`${names[0]} 2.x or 3.x (1.x, bundled, is installed)`);
    expect(message).to.include(`${names[1]} 2.x or 3.x (1.x, bundled, is installed)`);
  });

  it('takes the line installed here, 2.x or 3.x, as it is', async () => {
    const resources = await import('@opentelemetry/resources');
    expect(() => checkSdkVersions(names, 'x', [sdkMetrics, resources], bundled)).not.to.throw();
  });
});

describe('the optional SDK packages', () => {
  // With none installed, OTEL_METRICS_EXPORTER=prometheus named sdk-metrics and resources; once
  // those were installed, the next start named exporter-prometheus: two tries for one install.
  it('names every missing one in one error, the exporters with the SDK', async () => {
    const err = await importSdk('OTEL_METRICS_EXPORTER=prometheus', [
      '@opentelemetry/exporter-not-installed',
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(MissingSdkError);
    expect((err as MissingSdkError).packages).to.deep.equal([
      '@opentelemetry/exporter-not-installed',
    ]);
  });

  // pidtree 0.3 (npm-run-all 4's) replaces String.prototype.startsWith with one that ignores its
  // position; Node's reader of a CommonJS module's export names then finds none, and import() of
  // the SDK gave `default` alone: register failed ("PrometheusExporter is not a constructor") in
  // every application that had loaded it. In a fresh process: this one has the packages cached.
  it("finds the packages' classes where the application broke String.prototype.startsWith", () => {
    const optionalSdk = new URL('../../../../src/otel/sdk/optional-sdk.js', import.meta.url).href;
    const script = `
      String.prototype.startsWith = function (s) { return this.substring(0, s.length) === s; };
      const { importAll, importSdk } = await import(${JSON.stringify(optionalSdk)});
      const [prometheus] = await importAll(['@opentelemetry/exporter-prometheus'], 'test');
      const [sdk, resources] = await importSdk('test');
      process.stdout.write(JSON.stringify([typeof prometheus.PrometheusExporter,
        typeof sdk.MeterProvider, typeof resources.resourceFromAttributes]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).to.deep.equal(['function', 'function', 'function']);
  });

  it('knows which package each exporter needs, by the OTLP protocol', () => {
    expect(exporterPackages(['prometheus', 'console'], {})).to.deep.equal([
      '@opentelemetry/exporter-prometheus',
    ]);
    expect(exporterPackages(['otlp'], {})).to.deep.equal([
      '@opentelemetry/exporter-metrics-otlp-proto',
    ]);
    expect(
      exporterPackages(['otlp', 'prometheus'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    ).to.deep.equal([
      '@opentelemetry/exporter-metrics-otlp-http',
      '@opentelemetry/exporter-prometheus',
    ]);
  });

  /** A server answering 200 one byte per 100 ms, for `forMs` (for ever when undefined). */
  async function trickling(forMs?: number) {
    const timers = new Set<NodeJS.Timeout>();
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      const timer = setInterval(() => res.write(' '), 100);
      timers.add(timer);
      if (forMs !== undefined) setTimeout(() => res.end(), forMs);
      res.on('close', () => clearInterval(timer));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      paths,
      close() {
        for (const timer of timers) clearInterval(timer);
        server.closeAllConnections();
        server.close();
      },
    };
  }

  /**
   * One export's result; undefined if it had not ended within 3 s. A trickling collector never
   * ends its answer: only the exporter's timeout, over the whole export, ends it.
   */
  async function exportOnce(
    exporter: PushMetricExporter,
    temporality?: sdkMetrics.AggregationTemporality,
  ): Promise<ExportResult | undefined> {
    const metrics = await oneCounterMetrics(temporality);
    return Promise.race([
      new Promise<ExportResult>((resolve) => exporter.export(metrics, resolve)),
      new Promise<undefined>((resolve) => setTimeout(resolve, 3000)),
    ]);
  }

  /** A GET of `url`: its status and body, or the error that ended it. */
  function get(url: string): Promise<{ status?: number; body?: string; error?: string }> {
    return new Promise((resolve) => {
      const req = request(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', (err) => resolve({ error: err.message }));
      });
      req.on('error', (err) => resolve({ error: err.message }));
      req.end();
    });
  }

  // The exporter's own timeout is its socket's idle timeout: each byte restarted it. The last
  // push's exporter (register's, the CLI's, the service's) sends through agents of its own.
  for (const [agents, what] of [
    [undefined, ''],
    [lastPushAgents({}, 500), ' (the last push)'],
  ] as const) {
    it(`ends an OTLP export at its timeout as a whole, however the collector's answer trickles${what}`, async () => {
      const collector = await trickling();
      try {
        const url = `${collector.origin}/v1/metrics`;
        const exporter = await otlpMetricExporter({}, 'test', url, 500, agents);
        const result = await exportOnce(exporter);
        expect(result, 'the export ended').not.to.equal(undefined);
        expect(failureOf(result as ExportResult)).to.equal('Request timed out');
        await exporter.shutdown();
      } finally {
        collector.close();
      }
    });
  }

  // Node runs the timers that expired while a process was stopped (SIGSTOP, `docker pause`)
  // before it reads its sockets: both the exporter's idle timeout and carbonscope's cut failed
  // a push that the collector had taken and answered.
  it('takes the answer to a push that came while the process was held past the timeout', async () => {
    const collector = await answeringServer('');
    try {
      const url = `${collector.url}/v1/metrics`;
      const exporter = await otlpMetricExporter({}, 'test', url, 200);
      expect(failureOf((await exportOnce(exporter)) as ExportResult)).to.equal(undefined);
      await collector.holdNextRequest(600);
      const held = await exportOnce(exporter);
      expect(held, 'the export ended').not.to.equal(undefined);
      expect(failureOf(held as ExportResult)).to.equal(undefined);
      expect(collector.received()).to.equal(2);
      await exporter.shutdown();
    } finally {
      await collector.close();
    }
  });

  // The deadline takes the requests to the exporter's endpoint: the one it reads from the
  // environment when given no URL, base endpoint and `v1/metrics`.
  it('ends an export at its timeout to the endpoint the environment names', async () => {
    const collector = await trickling();
    const before = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `${collector.origin}/base`;
    try {
      const exporter = await otlpMetricExporter(process.env, 'test', undefined, 500);
      const result = await exportOnce(exporter);
      expect(collector.paths).to.deep.equal(['/base/v1/metrics']);
      expect(result, 'the export ended').not.to.equal(undefined);
      expect(failureOf(result as ExportResult)).to.equal('Request timed out');
      await exporter.shutdown();
    } finally {
      if (before === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = before;
      collector.close();
    }
  });

  // The exporter reads the TLS files whole as it is made, for agents it never uses once given
  // carbonscope's: a FIFO held `carbonscope run` and register's process there without end (the
  // check's warning said so first), /dev/zero grew it past 2.9 GB in 10 s. In a child: a hang
  // in this process would stop the suite.
  it('is made where a TLS variable names a FIFO or a device, and leaves the variables as set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'carbonscope-otlp-fifo-'));
    try {
      const fifo = join(dir, 'ca.fifo');
      execFileSync('mkfifo', [fifo]);
      const module = new URL('../../../../src/otel/sdk/optional-sdk.js', import.meta.url).href;
      const script = `const { otlpMetricExporter } = await import(${JSON.stringify(module)});
await otlpMetricExporter(process.env, 'test', 'http://127.0.0.1:9/v1/metrics', 500);
console.log(process.env.OTEL_EXPORTER_OTLP_CERTIFICATE, process.env.OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY);`;
      const out = spawnSync(
        process.execPath,
        ['--input-type=module', '--max-old-space-size=256', '-e', script],
        {
          encoding: 'utf8',
          timeout: 10_000,
          env: {
            ...process.env,
            OTEL_EXPORTER_OTLP_CERTIFICATE: fifo,
            OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: '/dev/zero',
          },
        },
      );
      expect(out.signal, out.stderr).to.equal(null);
      expect(out.stdout.trim()).to.equal(`${fifo} /dev/zero`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The exporter is given agents of carbonscope's own (they tell its requests from the app's):
  // made as the exporter makes its own, with the CA the OTLP variables name.
  it('pushes over https to a collector whose CA only OTEL_EXPORTER_OTLP_CERTIFICATE names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'carbonscope-otlp-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', key];
    args.push('-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
    execFileSync('openssl', args, { stdio: 'ignore' });
    const server = createHttpsServer(
      { key: await readFile(key), cert: await readFile(cert) },
      (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200).end());
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const before = process.env.OTEL_EXPORTER_OTLP_CERTIFICATE;
    process.env.OTEL_EXPORTER_OTLP_CERTIFICATE = cert;
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`;
      const exporter = await otlpMetricExporter(process.env, 'test', url, 2000);
      const result = await exportOnce(exporter);
      expect(result, 'the export ended').not.to.equal(undefined);
      expect(failureOf(result as ExportResult)).to.equal(undefined);
      await exporter.shutdown();
    } finally {
      if (before === undefined) delete process.env.OTEL_EXPORTER_OTLP_CERTIFICATE;
      else process.env.OTEL_EXPORTER_OTLP_CERTIFICATE = before;
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** Whether a request sent through `agent` is one of `own`'s. */
  function sentThrough(agent: Agent, own: ReturnType<typeof exporterOwnRequests>): boolean {
    const send = agent instanceof HttpsAgent ? httpsRequest : request;
    const req = send(`${agent instanceof HttpsAgent ? 'https' : 'http'}://127.0.0.1:9/`, { agent });
    req.on('error', () => {});
    req.destroy();
    return own.has(req);
  }

  // Exporters 0.200 to 0.203, within the peer range, take agent options alone: their transport
  // builds `new Agent(httpAgentOptions)`, and read a factory as empty options: no keep-alive,
  // no CA, and an agent not carbonscope's, its requests never cut at the deadline.
  it('gives its exporter agent options, which exporters before 0.204 build their agents from', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'carbonscope-otlp-ca-'));
    try {
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, 'the CA');
      const own = exporterOwnRequests({ OTEL_EXPORTER_OTLP_CERTIFICATE: ca });
      // As exporter 0.203's createHttpAgent builds them, by the URL's protocol.
      const given = own.agents as HttpsAgentOptions;
      const https = new HttpsAgent(given);
      const http = new HttpAgent(given);
      expect(https.options.ca?.toString()).to.equal('the CA');
      const kept = (agent: Agent) => (agent as unknown as { keepAlive: boolean }).keepAlive;
      expect([kept(https), kept(http)]).to.deep.equal([true, true]);
      expect([sentThrough(https, own), sentThrough(http, own)]).to.deep.equal([true, true]);
      // Another exporter's, and the application's own agents, are not its.
      expect(
        sentThrough(new HttpAgent(exporterOwnRequests({}).agents as HttpsAgentOptions), own),
      ).to.equal(false);
      expect(sentThrough(new HttpAgent({ keepAlive: true }), own)).to.equal(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /**
   * A collector refusing every push with `status`, `headers` and `body`; `requests` counts them.
   */
  async function refusing(
    status: number,
    headers: Record<string, string> = {},
    body: Uint8Array | string = '',
  ) {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(status, headers).end(body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests: () => requests,
      close: () => server.close(),
    };
  }

  // The exporter words every status it retries (429, 502, 503, 504) alike, status left out:
  // the real Collector's memory limiter refusing (503) read as "Export failed with retryable
  // status", whatever the collector said.
  for (const [status, headers, reason, what = reason] of [
    [503, {}, 'Service Unavailable (HTTP 503)'],
    [429, { 'retry-after': '30' }, 'Too Many Requests, Retry-After 30 (HTTP 429)'],
    [
      503,
      { 'retry-after': 'Fri, 31 Dec 2027 23:59:59 GMT' },
      'Service Unavailable, Retry-After Fri, 31 Dec 2027 23:59:59 GMT (HTTP 503)',
    ],
    // Whatever else the collector (or a proxy) writes there is no delay: left out of the line.
    [
      503,
      { 'retry-after': `30 ${'x'.repeat(4000)}` },
      'Service Unavailable (HTTP 503)',
      'a Retry-After of 4 KB of text left out',
    ],
    // Short text V8's Date.parse still reads as a date (it takes almost anything ending in a
    // number): no HTTP date, so no delay either.
    [503, { 'retry-after': 'secret 12' }, 'Service Unavailable (HTTP 503)', 'short text left out'],
  ] as const) {
    it(`names the status of a refusal it would retry: ${what}`, async () => {
      const collector = await refusing(status, headers);
      try {
        const exporter = await otlpMetricExporter(
          {},
          'test',
          `${collector.origin}/v1/metrics`,
          500,
        );
        const result = await exportOnce(exporter);
        expect(failureOf(result as ExportResult)).to.equal(reason);
        // Retry-After beyond the export's timeout: not tried again.
        if (status === 429) expect(collector.requests()).to.equal(1);
        await exporter.shutdown();
      } finally {
        collector.close();
      }
    });
  }

  /**
   * register's and the service's periodic OTLP pushes to `origin`, with their last push; their
   * timeout `timeoutMs`, their lines written to `logger`.
   */
  async function periodicPushes(origin: string, timeoutMs = 500, logger = memoryLogger().logger) {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: origin };
    // The OTLP exporter reads its endpoint from process.env as it is made.
    const before = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = origin;
    try {
      const exporter = await otlpMetricExporter(env, 'test', undefined, timeoutMs);
      const periodic = reportingPushFailures(exporter, env, logger);
      return await otlpLastPush(env, 'test', periodic, logger, timeoutMs);
    } finally {
      if (before === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = before;
    }
  }

  /** An ExportMetricsServiceResponse in protobuf: partial_success { rejected, message }. */
  function partialSuccessBody(rejected: number, message: string): Buffer {
    const text = Buffer.from(message);
    const inner = Buffer.concat([Buffer.from([0x08, rejected, 0x12, text.length]), text]);
    return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
  }

  /** What `logger` warned, each line's text. */
  function warnings(lines: Array<Record<string, unknown>>): string[] {
    return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  }

  // The OTel exporter takes a partial success as a success, and tells it to the diag logger
  // alone (silent without OTEL_LOG_LEVEL): a collector dropping points said nothing.
  for (const [protocol, contentType, body] of [
    [
      'http/protobuf',
      'application/x-protobuf',
      partialSuccessBody(3, 'Bearer s3cr3t: 3 points out of order'),
    ],
    [
      'http/json',
      'application/json',
      JSON.stringify({
        partialSuccess: {
          rejectedDataPoints: '3',
          errorMessage: 'Bearer s3cr3t: 3 points out of order',
        },
      }),
    ],
  ] as const) {
    it(`says a partial success in one warning line, once per reason, secrets masked (${protocol})`, async () => {
      const collector = await refusing(200, { 'content-type': contentType }, body);
      try {
        const env = {
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer s3cr3t',
        };
        const { logger, lines } = memoryLogger();
        const url = `${collector.origin}/v1/metrics`;
        const exporter = await otlpMetricExporter(env, 'test', url, 500);
        const reporting = reportingPushFailures(
          exporter,
          { ...env, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url },
          logger,
        );
        for (let i = 0; i < 3; i++) {
          expect(failureOf((await exportOnce(reporting)) as ExportResult)).to.equal(undefined);
        }
        expect(collector.requests()).to.equal(3);
        expect(warnings(lines)).to.deep.equal([
          `the collector at ${url} took a push but rejected 3 of its data points: "[redacted]: 3 points out of order" (told once for each reason)`,
        ]);
        await exporter.shutdown();
      } finally {
        collector.close();
      }
    });
  }

  it('says nothing of a success whose body rejected nothing', async () => {
    const collector = await refusing(
      200,
      { 'content-type': 'application/x-protobuf' },
      partialSuccessBody(0, ''),
    );
    try {
      const { logger, lines } = memoryLogger();
      const url = `${collector.origin}/v1/metrics`;
      const exporter = await otlpMetricExporter({}, 'test', url, 500);
      const reporting = reportingPushFailures(
        exporter,
        { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url },
        logger,
      );
      expect(failureOf((await exportOnce(reporting)) as ExportResult)).to.equal(undefined);
      expect(warnings(lines)).to.deep.equal([]);
      await exporter.shutdown();
    } finally {
      collector.close();
    }
  });

  // The exporter waits for a Retry-After within a push only; the next came at the interval
  // however long the collector asked to be left alone (Retry-After 10 at a 2 s interval: 3
  // more pushes refused). Cumulative figures lose nothing by waiting: the next push has them.
  it('holds periodic pushes of cumulative figures while a Retry-After runs, not delta ones nor the last', async () => {
    const collector = await refusing(429, { 'retry-after': '30' });
    try {
      const pushes = await periodicPushes(collector.origin);
      const refusal = 'Too Many Requests, Retry-After 30 (HTTP 429)';
      expect(failureOf((await exportOnce(pushes.exporter)) as ExportResult)).to.equal(refusal);
      expect(failureOf((await exportOnce(pushes.exporter)) as ExportResult)).to.equal(refusal);
      expect(collector.requests(), 'the cumulative push held').to.equal(1);
      // Not sent, a delta push would be dropped: it goes, and is refused as it would be.
      const delta = await exportOnce(pushes.exporter, sdkMetrics.AggregationTemporality.DELTA);
      expect(failureOf(delta as ExportResult)).to.equal(refusal);
      expect(collector.requests(), 'the delta push sent').to.equal(2);
      // The last push, at the stop, is tried whatever the collector asked.
      await pushes.within(async () => {
        await exportOnce(pushes.exporter);
      });
      expect(collector.requests(), 'the last push sent').to.equal(3);
    } finally {
      collector.close();
    }
  });

  // The body's reason and the Retry-After's hold ride on one error (export-deadline's refusal):
  // either may be lost where the other is kept.
  it("a retried refusal with a body keeps both its reason and its Retry-After's hold", async () => {
    const text = { 'retry-after': '30', 'content-type': 'text/plain' };
    const collector = await refusing(429, text, 'rate limited by the gateway\n');
    try {
      const pushes = await periodicPushes(collector.origin);
      const refusal = 'Too Many Requests, Retry-After 30 (HTTP 429): "rate limited by the gateway"';
      expect(failureOf((await exportOnce(pushes.exporter)) as ExportResult)).to.equal(refusal);
      expect(failureOf((await exportOnce(pushes.exporter)) as ExportResult)).to.equal(refusal);
      expect(collector.requests(), 'the second push held').to.equal(1);
    } finally {
      collector.close();
    }
  });

  it('pushes again once the Retry-After passed, not before', async () => {
    const collector = await refusing(503, { 'retry-after': '1' });
    try {
      const pushes = await periodicPushes(collector.origin);
      await exportOnce(pushes.exporter);
      const refusedAt = performance.now();
      for (let i = 0; i < 100 && collector.requests() < 2; i++) {
        await exportOnce(pushes.exporter);
        if (collector.requests() < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(collector.requests()).to.equal(2);
      // The answer came before refusedAt: a push sent before the second passed is earlier still.
      expect(performance.now() - refusedAt).to.be.at.least(900);
    } finally {
      collector.close();
    }
  });

  // A SIGTERM while a refused push waited out its retry's backoff: the last push waited behind
  // it, was cut at its 0.5 s deadline before it began, and said it dropped what was counted;
  // under delta the retry, sent after the stop, could carry points the last push carried too.
  // Its request still in flight at the stop (its answer held), it is awaited, then fails so.
  for (const [what, holdMs] of [
    ['waiting to be tried again fails at once', 0],
    ['whose refusal comes after the stop fails then', 300],
  ] as const) {
    it(`at the stop, a push ${what}, the last goes, the retry never`, async () => {
      let requests = 0;
      const server = createServer((req, res) => {
        requests++;
        const first = requests === 1;
        req.resume();
        req.on('end', () => {
          if (!first) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          else setTimeout(() => res.writeHead(503, { 'retry-after': '1' }).end(), holdMs);
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { logger, lines } = memoryLogger();
      try {
        // Room for the retry the Retry-After asks for: the exporter waits 1 s, then sends again.
        const pushes = await periodicPushes(origin, 5_000, logger);
        const refused = exportOnce(pushes.exporter);
        for (let i = 0; i < 100 && requests < 1; i++) await delay(10);
        // Its answer read (the exporter waits out the Retry-After), or held still.
        await delay(100);
        let waited: ExportResult | undefined;
        let requestsAtTheEnd = 0;
        // As the provider's shutdown does: the push under way awaited, then the last one.
        await pushes.within(async () => {
          waited = await refused;
          await exportOnce(pushes.exporter);
          requestsAtTheEnd = requests;
        });
        expect(failureOf(waited as ExportResult)).to.equal(
          'Service Unavailable, Retry-After 1 (HTTP 503)',
        );
        expect(requestsAtTheEnd, 'the refused push, then the last one').to.equal(2);
        expect(warnings(lines), 'the last push got through').to.deep.equal([]);
        // Past the Retry-After: the retry of the refused push was never sent.
        await delay(1_500);
        expect(requests).to.equal(2);
      } finally {
        server.close();
      }
    });
  }

  // The hold ran on Date.now(): a wall clock set back during it (an NTP step, a VM's clock
  // corrected on resume) held the pushes that much longer, past the 5 min cap (an hour back: an
  // hour and a second without a push).
  it('a wall clock set back during the hold does not lengthen it', async () => {
    const collector = await refusing(503, { 'retry-after': '1' });
    const realNow = Date.now;
    let offset = 0;
    Date.now = () => realNow() + offset;
    try {
      const pushes = await periodicPushes(collector.origin);
      await exportOnce(pushes.exporter);
      offset = -3_600_000;
      for (let i = 0; i < 100 && collector.requests() < 2; i++) {
        await exportOnce(pushes.exporter);
        if (collector.requests() < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(collector.requests(), 'pushed again once the second passed').to.equal(2);
    } finally {
      Date.now = realNow;
      collector.close();
    }
  });

  // A Retry-After date is on the collector's clock: read against ours, an hour behind, the 2 s
  // it asked was an hour's wait, held at the 5 min cap.
  it("reads a Retry-After date against the collector's Date when our wall clock is behind", async () => {
    const sent = Math.floor(Date.now() / 1000) * 1000;
    const collector = await refusing(503, {
      date: new Date(sent).toUTCString(),
      'retry-after': new Date(sent + 2000).toUTCString(),
    });
    const realNow = Date.now;
    Date.now = () => realNow() - 3_600_000;
    try {
      const pushes = await periodicPushes(collector.origin);
      await exportOnce(pushes.exporter);
      for (let i = 0; i < 100 && collector.requests() < 2; i++) {
        await exportOnce(pushes.exporter);
        if (collector.requests() < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(collector.requests(), 'pushed again once the 2 s passed').to.equal(2);
    } finally {
      Date.now = realNow;
      collector.close();
    }
  });

  /** A google.rpc.Status in protobuf: code (field 1), message (field 2, its length a varint). */
  function statusProto(code: number, message: string): Uint8Array {
    const text = Buffer.from(message);
    const length: number[] = [];
    for (let n = text.length; ; n >>>= 7) {
      if (n < 0x80) {
        length.push(n);
        break;
      }
      length.push((n & 0x7f) | 0x80);
    }
    return Buffer.concat([Buffer.from([0x08, code, 0x12, ...length]), text]);
  }

  const TOKEN = 's3cr3t-token-0123456789abcdef';
  const PROTO = { 'content-type': 'application/x-protobuf' };
  const DELTA = 'invalid temporality and type combination for metric "carbonscope_energy_joules"';
  const LONG = `data refused due to high memory usage ${'m'.repeat(300)}`;
  // The exporter kept the status alone ("Internal Server Error (HTTP 500)"): Prometheus 3's
  // reason for refusing a delta push, a proxy's 401 or 413, a memory limiter's 503 were in the
  // body, and no line said them.
  for (const [status, headers, body, reason, what] of [
    [500, PROTO, statusProto(3, DELTA), JSON.stringify(DELTA), 'a Status in protobuf'],
    [
      400,
      { 'content-type': 'application/json' },
      JSON.stringify({ code: 3, message: 'bad\nrest' }),
      '"bad"',
      'a Status in JSON, its first line',
    ],
    [
      413,
      { 'content-type': 'text/plain' },
      '\n request entity too large \nmore',
      '"request entity too large"',
      'text',
    ],
    [
      502,
      { 'content-type': 'text/html' },
      '<!DOCTYPE html><html><head><title>502 Bad &amp; Gateway</title></head><body>x</body></html>',
      '"502 Bad & Gateway"',
      'an HTML page, retried: its title',
    ],
    [
      403,
      { 'content-type': 'text/html' },
      '<html><body><h1>Forbidden</h1></body></html>',
      undefined,
      'an HTML page with no title',
    ],
    [500, {}, 'x'.repeat(10_000), `"${'x'.repeat(200)}…"`, '10 KB of text, cut'],
    [401, {}, `bad token: Bearer ${TOKEN}`, '"bad token: [redacted]"', 'the bearer token echoed'],
    [
      500,
      {},
      `${'y'.repeat(195)}${TOKEN} and on`,
      `"${'y'.repeat(195)}[redacted]…"`,
      'a token the cut would split',
    ],
    [500, {}, 'boom \x1b[2J\u202e!', '"boom \\u001b[2J\\u202e!"', 'control and bidi characters'],
    [503, PROTO, statusProto(8, LONG), `"${LONG.slice(0, 200)}…"`, 'a long Status, retried'],
    [500, PROTO, Buffer.from([0xff, 0xff]), undefined, 'bytes that are no Status'],
    // A page's template may write any character as a numeric reference (Go's html/template
    // writes `+`, base64's, as `&#43;`): read before masking, or the token showed so written.
    [
      401,
      { 'content-type': 'text/html' },
      `<title>bad token: ${TOKEN.replaceAll('-', '&#45;').replace('0', '&#x30;')}</title>`,
      '"bad token: [redacted]"',
      'a token in the title, written as numeric references',
    ],
  ] as const) {
    for (const protocol of ['http/protobuf', 'http/json']) {
      it(`says the reason a refusal's body gives (${protocol}): ${what}`, async () => {
        const collector = await refusing(status, headers, body);
        const env = {
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${TOKEN}`,
        };
        try {
          const url = `${collector.origin}/v1/metrics`;
          const exporter = await otlpMetricExporter(env, 'test', url, 500);
          const result = (await exportOnce(exporter)) as ExportResult;
          const failure = failureOf(result, redactionList(otlpSecretsOf(env)));
          const code = result.error && (result.error as { code?: number }).code;
          const head = `${result.error?.message} (HTTP ${code})`;
          expect(code).to.equal(status);
          expect(failure).to.equal(reason === undefined ? head : `${head}: ${reason}`);
          await exporter.shutdown();
        } finally {
          collector.close();
        }
      });
    }
  }

  it("says the reason an application's exporter keeps as text (OTLPExporterError's data)", () => {
    const error = Object.assign(new Error('Internal Server Error'), {
      code: 500,
      data: Buffer.from(statusProto(3, DELTA)).toString(),
    });
    expect(failureOf({ code: 1, error })).to.equal(
      `Internal Server Error (HTTP 500): ${JSON.stringify(DELTA)}`,
    );
  });

  // Node dumps the answer to a request nobody listens for, which frees its socket; a listener
  // of the exporter's own on every request to the endpoint kept the application's unread until
  // the export's deadline cut it (without an 'error' listener, an uncaught exception).
  it("leaves unread the answer to none of the application's requests to the same endpoint", async () => {
    const server = createServer((req, res) => {
      // The exporter's push waits; the application's GET is answered at once.
      if (req.method === 'GET') res.end('ok');
      else req.resume();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`;
    try {
      const exporter = await otlpMetricExporter({}, 'test', url, 500);
      const exporting = exportOnce(exporter);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(hasSubscribers('http.client.request.start'), 'during an export').to.equal(true);
      // No response callback: the application wants the request sent, not its answer.
      const own = request(url);
      let failed: string | undefined;
      own.on('error', (err) => {
        failed = err.message;
      });
      own.end();
      await once(own, 'close');
      expect(failed).to.equal(undefined);
      await exporting;
      await exporter.shutdown();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  /**
   * A collector on loopback that tells the application's requests (header `x-app`) from the
   * exporter's; `pushed` resolves as the exporter's first push arrives, `app` answers the
   * application's request it holds (`appArrived` resolves once it is held).
   */
  async function sharedCollector(onPush: (res: ServerResponse) => void) {
    let held: ServerResponse | undefined;
    let pushed!: () => void;
    let appArrived!: () => void;
    const pushing = new Promise<void>((resolve) => {
      pushed = resolve;
    });
    const arriving = new Promise<void>((resolve) => {
      appArrived = resolve;
    });
    const server = createServer((req, res) => {
      req.resume();
      if (req.headers['x-app'] === undefined) {
        onPush(res);
        pushed();
        return;
      }
      held = res;
      appArrived();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`,
      pushed: pushing,
      appArrived: arriving,
      app: (status: number, headers: Record<string, string> = {}) =>
        held?.writeHead(status, headers).end('app'),
      close() {
        server.closeAllConnections();
        server.close();
      },
    };
  }

  /** The application's own POST to `url`, as its SDK's exporter sends one: its answer or error. */
  function appPost(url: string): Promise<{ status?: number; body?: string; error?: string }> {
    return new Promise((resolve) => {
      const req = request(url, { method: 'POST', headers: { 'x-app': '1' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', (err) => resolve({ error: err.message }));
      req.end('{}');
    });
  }

  // The application's own SDK pushing to the collector register pushes to: an export's deadline
  // cut its request too (one with no 'error' listener: an uncaught exception, the app crashed).
  it("cuts none of the application's requests to the exporter's own URL, however slow", async () => {
    // The exporter's push is never answered: its deadline ends it.
    const collector = await sharedCollector(() => {});
    try {
      const exporter = await otlpMetricExporter({}, 'test', collector.url, 500);
      const exporting = exportOnce(exporter);
      await collector.pushed;
      const own = appPost(collector.url);
      await collector.appArrived;
      const result = await exporting;
      expect(failureOf(result as ExportResult)).to.equal('Request timed out');
      // Answered only after the export's deadline cut the exporter's own push.
      collector.app(200);
      expect(await own).to.deep.equal({ status: 200, body: 'app' });
      await exporter.shutdown();
    } finally {
      collector.close();
    }
  });

  // Two exports in flight to one collector, register's and the application's SDK's: the line
  // told the status of whichever answer came last, the application's too.
  it("names the status of its own refusal, not of the application's answered beside it", async () => {
    let endPush!: () => void;
    // The exporter's push refused at once, its answer ended after the application's.
    const collector = await sharedCollector((res) => {
      res.writeHead(429, { 'retry-after': '3600' }).write(' ');
      endPush = () => res.end();
    });
    try {
      const exporter = await otlpMetricExporter({}, 'test', collector.url, 2000);
      const exporting = exportOnce(exporter);
      await collector.pushed;
      const own = appPost(collector.url);
      await collector.appArrived;
      collector.app(503, { 'retry-after': '60' });
      expect((await own).status).to.equal(503);
      endPush();
      const result = await exporting;
      expect(failureOf(result as ExportResult)).to.equal(
        'Too Many Requests, Retry-After 3600 (HTTP 429)',
      );
      await exporter.shutdown();
    } finally {
      collector.close();
    }
  });

  // An export's deadline is no business of the application's own requests, even to the same
  // path on the same host (another port); and between exports they pass no subscriber at all.
  it("cuts none of the application's own requests, and watches none between exports", async () => {
    const collector = await trickling();
    const service = await trickling(900);
    // Nothing else in these tests subscribes to them (the exporter used to, for good).
    const watched = () =>
      ['http.client.request.start', 'http.client.response.finish'].map(hasSubscribers);
    try {
      const exporter = await otlpMetricExporter({}, 'test', `${collector.origin}/v1/metrics`, 500);
      expect(watched(), 'before the first export').to.deep.equal([false, false]);
      const exporting = exportOnce(exporter);
      const own = get(`${service.origin}/v1/metrics`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(watched(), 'during an export').to.deep.equal([true, true]);
      const result = await exporting;
      expect(result, 'the export ended').not.to.equal(undefined);
      expect(failureOf(result as ExportResult)).to.equal('Request timed out');
      expect(watched(), 'after it').to.deep.equal([false, false]);
      const answered = await own;
      expect(answered.error).to.equal(undefined);
      expect(answered.status).to.equal(200);
      expect(answered.body?.length).to.be.at.least(7);
      await exporter.shutdown();
    } finally {
      collector.close();
      service.close();
    }
  });
});
