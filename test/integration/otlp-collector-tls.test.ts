/**
 * `carbonscope/register` pushing OTLP over https to the real OpenTelemetry Collector, whose
 * receiver has a certificate of a private CA and may ask for the client's (mTLS), as a
 * production collector often does. The certificates are made fresh by openssl for the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS, prometheusName } from 'carbonscope';
import { expect } from 'chai';
import { findSample } from '#library-tests/helpers/metrics.js';
import { type RegisterApp, startRegisterApp } from '#library-tests/helpers/register-app.js';
import { type CertFiles, makeTestPki, type TestPki } from '#library-tests/helpers/tls-certs.js';
import { type RunningCollector, startCollector } from '../helpers/collector.js';
import { freePorts } from '../helpers/spawn-server.js';
import { waitFor } from '../helpers/wait.js';

const REQUESTS = `${prometheusName(METRICS.operationEnergy)}_count`;
const TLS = 'receivers::otlp::protocols::http::tls';

/** What OpenSSL's own error text holds and a user can do nothing with. */
const OPENSSL_INTERNALS = /openssl\/ssl|\.c:\d+|\\n|error:[0-9A-F]{8}/;

describe('register pushing OTLP over https to the real OpenTelemetry Collector', function () {
  this.timeout(90_000);
  let dir: string;
  let pki: TestPki;
  let ports: { http: number; exporter: number };
  let collector: RunningCollector | undefined;
  let app: RegisterApp | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carbonscope-otlp-tls-'));
    pki = await makeTestPki(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    const [http, exporter] = await freePorts(2);
    ports = { http: http as number, exporter: exporter as number };
  });
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
    await collector?.stop('SIGKILL');
    collector = undefined;
  });

  /** The Collector on the test's ports, its OTLP/HTTP receiver serving `server`'s certificate. */
  const collectorWith = (server: CertFiles, clientCa?: string) =>
    startCollector([
      `receivers::otlp::protocols::http::endpoint=127.0.0.1:${ports.http}`,
      `exporters::prometheus::endpoint=127.0.0.1:${ports.exporter}`,
      'processors::batch::timeout=200ms',
      `${TLS}::cert_file=${server.cert}`,
      `${TLS}::key_file=${server.key}`,
      ...(clientCa ? [`${TLS}::client_ca_file=${clientCa}`] : []),
    ]);

  const startApp = (env: Record<string, string>) =>
    startRegisterApp(`https://127.0.0.1:${ports.http}`, {
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      ...env,
    });

  async function hit(times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      expect((await fetch(`${app?.base}/hello`)).status).to.equal(200);
    }
  }

  async function untilCounted(count: number): Promise<void> {
    const counted = async () => {
      const response = await fetch(`http://127.0.0.1:${ports.exporter}/metrics`).catch(() => null);
      if (!response?.ok) return undefined;
      return findSample(await response.text(), REQUESTS, { carbonscope_operation: '/hello' });
    };
    await waitFor(`the Collector to show ${count} requests`, async () => {
      const n = await counted();
      if (n !== undefined && n > count) throw new Error(`${n} requests`);
      return n === count;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; app: ${app?.stderr.join('\n')}`);
    });
  }

  const failures = () => app?.stderr.filter((l) => l.includes('could not push metrics')) ?? [];

  it('asking for a client certificate: pushed with the one the variables name', async () => {
    collector = await collectorWith(pki.server, pki.ca);
    app = await startApp({
      OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.client.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.client.key,
    });
    await hit(4);
    await untilCounted(4);
    expect(failures()).to.deep.equal([]);
  });

  // Node's text for it is OpenSSL's: `80FC…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13
  // alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert
  // number 116\n`, the newline escaped in the line.
  it('asking for a client certificate none names: one line that says which variables do', async () => {
    collector = await collectorWith(pki.server, pki.ca);
    app = await startApp({ OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca });
    await hit(1);
    await waitFor('a push to fail', async () => failures().length > 0);
    const [line] = failures();
    expect(line).to.include('certificate required');
    expect(line).to.include('OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE');
    expect(line).to.not.match(OPENSSL_INTERNALS);
  });

  // A collector whose certificate was renewed by another CA by mistake, then put right: the line
  // says what to name, and what was counted meanwhile arrives once the right one serves.
  it('serving a certificate of a CA the process does not trust, then the right one', async () => {
    collector = await collectorWith(pki.otherServer);
    app = await startApp({ OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca });
    await hit(3);
    await waitFor('a push to fail', async () => failures().length > 0);
    expect(failures()[0]).to.include('OTEL_EXPORTER_OTLP_CERTIFICATE');
    expect(failures()[0]).to.include('NODE_EXTRA_CA_CERTS');
    await collector.stop('SIGTERM');
    collector = await collectorWith(pki.server);
    await hit(2);
    await untilCounted(5);
    expect(failures(), 'one line for the run of failures').to.have.length(1);
  });
});
