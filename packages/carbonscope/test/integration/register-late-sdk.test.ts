import { expect } from 'chai';
import { underRegister } from '../helpers/under-register.js';

/**
 * An application that awaits something (a config load, a database) before it starts its own
 * NodeSDK, with a reader of its own, under `node --import carbonscope/register`: its SDK starts
 * DELAY_MS after start, after register's first sample (0.1 s), and tracks one operation. Then
 * it collects until that operation is among what its reader got (5 s at most: the meter samples
 * every 1 s, which settles it), and says what it got of its own and of carbonscope's.
 */
const APP = `const { metrics } = await import('@opentelemetry/api');
const { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } =
  await import('@opentelemetry/sdk-metrics');
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { track } = await import('carbonscope');
await new Promise((r) => setTimeout(r, Number(process.env.DELAY_MS)));
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 });
const sdk = new NodeSDK({ metricReaders: [reader], instrumentations: [] });
sdk.start();
metrics.getMeter('app').createCounter('app_hits').add(5);
await track('late-op', () => 1);
const named = (m) => m.dataPoints.map((d) => m.descriptor.name + ':' + Object.values(d.attributes).join(','));
const names = async () => {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => named(m).map((n) => s.scope.name + ':' + n)));
};
const tracked = (got) => got.some((n) => n.startsWith('carbonscope:carbonscope.operation.energy:') && n.includes('late-op'));
let got = await names();
for (let i = 0; i < 50 && !tracked(got); i++) {
  await new Promise((r) => setTimeout(r, 100));
  got = await names();
}
console.log('app', got.includes('app:app_hits:'));
console.log('energy', got.some((n) => n.startsWith('carbonscope:hw.host.energy:')));
console.log('operation', tracked(got));
await sdk.shutdown();
process.exit(0);`;

const RUN_ENV = { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

// Before, with OTEL_METRICS_EXPORTER=none register started no SDK at its first sample and
// watched for no provider after it: an application's SDK started later got nothing of
// carbonscope's, without a word, where one started before the first sample got it all.
describe('register beside an application whose NodeSDK starts after the first sample', function () {
  this.timeout(60_000);

  for (const delayMs of [500, 2_000]) {
    it(`OTEL_METRICS_EXPORTER=none, the SDK started ${delayMs} ms after start: joined`, async () => {
      const run = await underRegister(APP, {
        ...RUN_ENV,
        OTEL_METRICS_EXPORTER: 'none',
        DELAY_MS: String(delayMs),
      });
      expect(run.stdout).to.equal('app true\nenergy true\noperation true\n');
      expect(run.stderr).to.equal('');
    });
  }

  // register's own SDK (OTLP, the spec's default) hands over as the application's registers.
  it('OTEL_METRICS_EXPORTER unset, the SDK started 500 ms after start: handed over', async () => {
    const run = await underRegister(APP, {
      ...RUN_ENV,
      OTEL_METRICS_EXPORTER: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      DELAY_MS: '500',
    });
    expect(run.stdout).to.equal('app true\nenergy true\noperation true\n');
    expect(run.stderr).to.equal('');
  });
});
