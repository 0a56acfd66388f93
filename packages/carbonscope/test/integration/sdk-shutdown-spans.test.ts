import { expect } from 'chai';
import { otlpReceiver } from '../helpers/otlp-receiver.js';
import { FIRST_SAMPLE, lastJson, underNode, underRegister } from '../helpers/under-register.js';

/**
 * A service that starts NodeSDK with the HTTP instrumentation (and CarbonscopeInstrumentation
 * where WITH_INSTRUMENTATION is set), answers REQUESTS requests, each with a track() inside,
 * then calls sdk.shutdown() at once, as its SIGTERM handler would, and carbonscope's stop() after
 * it where END is `shutdown-first`: what its span exporter got, what its metric reader's last
 * push counted per operation, and what the SDK told its diag logger (a span ended twice is an
 * error there). The meter samples every 60 s (the most it takes): no sample comes between the
 * requests and the shutdown.
 */
const SERVICE = `import { createRequire } from 'node:module';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CarbonscopeInstrumentation, stop, track } from 'carbonscope';

const told = [];
const tell = (...args) => told.push(args.join(' '));
diag.setLogger({ error: tell, warn: tell, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
const exported = [];
// Keeps what it was given: an InMemorySpanExporter forgets its spans at its shutdown.
const spans = {
  export: (batch, done) => {
    exported.push(...batch);
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const instrumentations = [new HttpInstrumentation()];
if (process.env.WITH_INSTRUMENTATION) instrumentations.push(new CarbonscopeInstrumentation());
const sdk = new NodeSDK({
  instrumentations,
  spanProcessors: [new BatchSpanProcessor(spans)],
  metricReaders: [
    new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 600_000 }),
  ],
});
sdk.start();
${FIRST_SAMPLE}
const http = createRequire(import.meta.url)('node:http');
const server = http.createServer(async (req, res) => {
  const sum = await track('load-user', () => {
    let s = 0;
    for (let i = 0; i < 1e5; i++) s += i;
    return s;
  });
  res.end(String(sum));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
for (let i = 0; i < Number(process.env.REQUESTS); i++) {
  await (await fetch('http://127.0.0.1:' + server.address().port + '/users/' + i)).text();
}
await sdk.shutdown();
if (process.env.END === 'shutdown-first') await stop();
server.close();
const withFigures = (s) => typeof s.attributes['carbonscope.energy_joules'] === 'number';
const of = (kind, name) => exported.filter((s) => s.kind === kind && (!name || s.name === name));
const counted = {};
for (const rm of metrics.getMetrics()) {
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== 'carbonscope.operation.energy') continue;
      for (const p of m.dataPoints) {
        const op = p.attributes['carbonscope.operation'];
        counted[op] = Math.max(counted[op] ?? 0, p.value.count);
      }
    }
  }
}
console.log(JSON.stringify({
  server: of(1).length,
  serverWithFigures: of(1).filter(withFigures).length,
  tracked: of(0, 'load-user').length,
  trackedWithFigures: of(0, 'load-user').filter(withFigures).length,
  counted,
  told,
}));
process.exit(0);
`;

interface Delivered {
  server: number;
  serverWithFigures: number;
  tracked: number;
  trackedWithFigures: number;
  counted: Record<string, number>;
  told: string[];
}

/**
 * Every request's server span and track() span exported, each with its figures, each request
 * and track() counted, and nothing told to the SDK's diag logger (no span ended twice).
 */
function expectAllDelivered(delivered: Delivered, requests: number, stderr: string): void {
  const { counted, told, ...spans } = delivered;
  expect(spans, stderr).to.deep.equal({
    server: requests,
    serverWithFigures: requests,
    tracked: requests,
    trackedWithFigures: requests,
  });
  expect(counted['load-user'], JSON.stringify(counted)).to.equal(requests);
  const answered = Object.entries(counted).filter(([op]) => op !== 'load-user');
  expect(
    answered.reduce((sum, [, n]) => sum + n, 0),
    JSON.stringify(counted),
  ).to.equal(requests);
  expect(told).to.deep.equal([]);
}

/** The service's run: register preloaded, or CarbonscopeInstrumentation in its SDK. */
async function served(
  by: 'register' | 'instrumentation',
  end: 'shutdown' | 'shutdown-first',
  requests = 10,
): Promise<void> {
  const env = {
    ENERGY_SAMPLE_INTERVAL_MS: '60000',
    OTEL_LOGS_EXPORTER: 'none',
    REQUESTS: String(requests),
    END: end,
  };
  const { stdout, stderr } =
    by === 'register'
      ? await underRegisterPushing(env)
      : await underNode(SERVICE, { ...env, WITH_INSTRUMENTATION: '1' });
  expectAllDelivered(lastJson<Delivered>(stdout), requests, stderr);
}

/**
 * register exporting as by default (OTLP, to a receiver here): where its first sample comes
 * before the service's SDK starts (importing NodeSDK can take longer than 0.1 s), it starts its
 * own provider and hands over to the service's as it registers. Under `none` it would export
 * nowhere, and never join the service's provider.
 */
async function underRegisterPushing(env: Record<string, string>) {
  const receiver = await otlpReceiver();
  try {
    const pushing = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    return await underRegister(SERVICE, { ...env, ...pushing });
  } finally {
    await receiver.close();
  }
}

describe('sdk.shutdown() right after the last requests, before or without stop()', function () {
  this.timeout(60_000);

  it('CarbonscopeInstrumentation, shutdown() alone: every span exported, with its figures', () =>
    served('instrumentation', 'shutdown'));

  it('CarbonscopeInstrumentation, shutdown() then stop(): the same, none ended twice', () =>
    served('instrumentation', 'shutdown-first'));

  it('CarbonscopeInstrumentation, 300 requests: the spans paced past the first 256 too', () =>
    served('instrumentation', 'shutdown', 300));

  it('--import carbonscope/register beside the SDK, shutdown() alone: the same', () =>
    served('register', 'shutdown'));

  it('--import carbonscope/register beside the SDK, shutdown() then stop(): the same', () =>
    served('register', 'shutdown-first'));
});
