/**
 * `carbonscope/register` pushing OTLP to the real OpenTelemetry Collector (built from
 * otel-collector/, run on its config.yaml) that crashes and comes back on the same port, or
 * takes delta points: what the Collector's Prometheus exporter shows must be every request
 * counted, once. Its batch processor waits 0.2 s here, not 5 s: the figures arrive sooner.
 */

import { setTimeout as delay } from 'node:timers/promises';
import { METRICS, prometheusName } from 'carbonscope';
import { expect } from 'chai';
import { findSample } from '#library-tests/helpers/metrics.js';
import { type RegisterApp, startRegisterApp } from '#library-tests/helpers/register-app.js';
import { type RunningCollector, startCollector } from '../helpers/collector.js';
import { freePorts } from '../helpers/spawn-server.js';
import { waitFor } from '../helpers/wait.js';

const REQUESTS = `${prometheusName(METRICS.operationEnergy)}_count`;
const ENERGY = prometheusName(METRICS.processEnergy);

/** The Collector on fixed loopback ports, so that one started again listens where the first did. */
async function collectorOn(
  ports: { http: number; exporter: number },
  settings: string[] = [],
): Promise<RunningCollector> {
  return startCollector([
    `receivers::otlp::protocols::http::endpoint=127.0.0.1:${ports.http}`,
    `exporters::prometheus::endpoint=127.0.0.1:${ports.exporter}`,
    'processors::batch::timeout=200ms',
    ...settings,
  ]);
}

/** The library's register fixture (/hello, /users/:id named with setRoute), pushing every 0.5 s. */
const startApp = (otlpUrl: string, env: Record<string, string> = {}) =>
  startRegisterApp(otlpUrl, { OTEL_METRIC_EXPORT_INTERVAL: '500', ...env });

/** The app's warnings of a failed push so far. */
function pushFailures(app: RegisterApp | undefined): string[] {
  return app?.stderr.filter((l) => l.includes('could not push metrics')) ?? [];
}

async function hit(base: string, path: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    expect((await fetch(`${base}${path}`)).status).to.equal(200);
  }
}

describe('register pushing OTLP to the real OpenTelemetry Collector', function () {
  this.timeout(90_000);
  let ports: { http: number; exporter: number };
  let collector: RunningCollector | undefined;
  let app: RegisterApp | undefined;

  beforeEach(async () => {
    const [http, exporter] = await freePorts(2);
    ports = { http: http as number, exporter: exporter as number };
    collector = await collectorOn(ports);
  });
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
    await collector?.stop('SIGKILL');
    collector = undefined;
  });

  /** A sample of the Collector's exposition; undefined while it has none (or is down). */
  async function scraped(name: string, labels: Record<string, string> = {}) {
    const response = await fetch(`http://127.0.0.1:${ports.exporter}/metrics`).catch(() => null);
    return response?.ok ? findSample(await response.text(), name, labels) : undefined;
  }
  const requestsOf = (operation: string) => scraped(REQUESTS, { carbonscope_operation: operation });

  const failed = () => pushFailures(app);

  async function untilCounted(operation: string, count: number): Promise<void> {
    await waitFor(`the Collector to show ${count} requests to ${operation}`, async () => {
      const n = await requestsOf(operation);
      if (n !== undefined && n > count) throw new Error(`${n} requests to ${operation}`);
      return n === count;
    }).catch(async (err: Error) => {
      const shown = await requestsOf(operation);
      throw new Error(`${err.message} (it shows ${shown}); app: ${app?.stderr.join('\n')}`);
    });
  }

  it('killed and started again on its port: what was counted meanwhile arrives, none twice', async () => {
    app = await startApp(`http://127.0.0.1:${ports.http}`);
    await hit(app.base, '/hello', 10);
    await untilCounted('/hello', 10);
    const energyBefore = (await scraped(ENERGY)) ?? 0;
    await collector?.stop('SIGKILL');
    await hit(app.base, '/hello', 7);
    // A push that failed after the 7: they were counted while the Collector was down.
    await waitFor('a push to fail', async () => failed().length > 0);
    collector = await collectorOn(ports);
    await untilCounted('/hello', 17);
    expect((await scraped(ENERGY)) ?? 0).to.be.at.least(energyBefore);
    await hit(app.base, '/hello', 3);
    await untilCounted('/hello', 20);
    expect(failed(), 'one line for the outage').to.have.length(1);
    expect(app.stderr.filter((l) => l.includes('metrics pushed to'))).to.have.length(1);
  });

  // Frozen, it takes each connection and answers nothing: each push is cut at its timeout.
  it('frozen for a while (SIGSTOP), then resumed: what was counted meanwhile arrives, none twice', async () => {
    app = await startApp(`http://127.0.0.1:${ports.http}`);
    await hit(app.base, '/hello', 10);
    await untilCounted('/hello', 10);
    collector?.signal('SIGSTOP');
    await hit(app.base, '/hello', 7);
    await waitFor('a push to time out', async () => failed().length > 0);
    collector?.signal('SIGCONT');
    await untilCounted('/hello', 17);
    await hit(app.base, '/hello', 3);
    await untilCounted('/hello', 20);
    expect(failed()).to.have.length(1);
    expect(failed()[0]).to.include('Request timed out; the next export tries again');
  });

  // The exporter adds a delta point to what it holds only where the point starts at the end of
  // the series' last one: any other start it takes as a restart, and the series' count with it.
  it('under delta temporality, a route quiet for a push goes on from its count', async () => {
    app = await startApp(`http://127.0.0.1:${ports.http}`, {
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    });
    await hit(app.base, '/hello', 10);
    await untilCounted('/hello', 10);
    // A push that carries /users/:id and nothing of /hello.
    await hit(app.base, '/users/1', 1);
    await untilCounted('/users/:id', 1);
    await hit(app.base, '/hello', 5);
    await untilCounted('/hello', 15);
    expect(collector?.log()).to.not.include('Misaligned starting timestamps');
  });

  // A serverless platform freezes the process between invocations; a Collector, a proxy or a NAT
  // drops its idle connection meanwhile. Node runs the overdue push before it reads that close:
  // the push went out on the dead connection (socket hang up), with no time left for a retry, and
  // under delta temporality the Collector took the next point, which started after the lost one,
  // for a restart (1.26 J of the process read 0.25 J).
  it('frozen (SIGSTOP) past the Collector closing its idle connection: thawed, it pushes on a new one, no failure', async () => {
    await collector?.stop('SIGKILL');
    collector = await collectorOn(ports, ['receivers::otlp::protocols::http::idle_timeout=1s']);
    app = await startApp(`http://127.0.0.1:${ports.http}`, {
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    });
    await hit(app.base, '/hello', 10);
    await untilCounted('/hello', 10);
    const energyBefore = (await scraped(ENERGY)) ?? 0;
    app.proc.kill('SIGSTOP');
    // Past the Collector's idle close (1 s) and the 4 s a connection is reused for.
    await delay(5000);
    app.proc.kill('SIGCONT');
    await hit(app.base, '/hello', 3);
    await untilCounted('/hello', 13);
    await waitFor('the energy to be pushed past its total before the freeze', async () => {
      return ((await scraped(ENERGY)) ?? 0) > energyBefore;
    });
    expect(failed()).to.deep.equal([]);
  });
});

// The first processor of the repository's config refuses data above its limit with a 503 the
// exporter retries; the exporter's own error then says only that the status was retryable.
describe('register pushing to the real Collector while its memory limiter refuses', function () {
  this.timeout(60_000);
  let collector: RunningCollector | undefined;
  let app: RegisterApp | undefined;
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
    await collector?.stop('SIGKILL');
    collector = undefined;
  });

  // The Collector says why in the answer's google.rpc.Status, which the line quotes.
  it('one warning naming the refusal and its reason: Service Unavailable (HTTP 503)', async () => {
    const [http, exporter] = await freePorts(2);
    // A limit below what the Collector itself takes: it refuses every push.
    collector = await collectorOn({ http: http as number, exporter: exporter as number }, [
      'processors::memory_limiter::limit_mib=2',
      'processors::memory_limiter::spike_limit_mib=1',
    ]);
    app = await startApp(`http://127.0.0.1:${http}`);
    const warned = () => pushFailures(app);
    await waitFor('a warning of the refused push', async () => warned().length > 0);
    expect(warned()).to.deep.equal([
      `carbonscope: warning: could not push metrics to http://127.0.0.1:${http}/v1/metrics: Service Unavailable (HTTP 503): "data refused due to high memory usage"; the next export tries again`,
    ]);
  });
});
