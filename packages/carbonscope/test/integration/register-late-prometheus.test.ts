import { expect } from 'chai';
import { freePort } from '../helpers/ports.js';
import { underRegister } from '../helpers/under-register.js';

// An application that loads its configuration before it starts NodeSDK, under
// `OTEL_METRICS_EXPORTER=prometheus node --import carbonscope/register`: register's own endpoint
// held the port, so the application's PrometheusExporter could not listen (EADDRINUSE, said
// only to an OTel diag logger); register then handed over and closed its endpoint, and nothing
// served the port: the application's metrics and carbonscope's were lost, without a word.
describe('register beside an application whose NodeSDK starts late, with prometheus', function () {
  this.timeout(60_000);

  it("the application's endpoint serves its metrics and carbonscope's after the hand-over", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    // Waits on events, each poll bounded: register's endpoint up, then the application's SDK.
    const app = `const { metrics } = await import('@opentelemetry/api');
const url = ${JSON.stringify(url)};
const scrape = () => fetch(url).then((r) => r.text(), () => '');
const until = async (ok) => {
  for (let i = 0; i < 250; i++) {
    const text = await scrape();
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
  return await scrape();
};
const before = await until((t) => t.includes('carbonscope_'));
console.log('register served before', before.includes('carbonscope_'));
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const sdk = new NodeSDK({});
sdk.start();
metrics.getMeter('app').createCounter('app_hits').add(5);
const after = await until((t) => t.includes('app_hits') && t.includes('carbonscope_'));
console.log('app_hits', /^app_hits(?:_total)?(?:\\{[^}]*\\})? (\\d+)/m.exec(after)?.[1]);
console.log('carbonscope served after', after.includes('carbonscope_operation') || after.includes('hw_host_power'));
await sdk.shutdown();
process.exit(0);`;
    // underRegister's process fails the test where it exits other than 0.
    const run = await underRegister(app, {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    });
    expect(run.stdout).to.equal(
      'register served before true\napp_hits 5\ncarbonscope served after true\n',
    );
    expect(run.stderr).to.equal('');
  });
});
