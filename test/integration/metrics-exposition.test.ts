/**
 * The service's /metrics as Prometheus reads it, after traffic that makes every series: each
 * route, statuses 2xx to 5xx, /predict, /chat through the mock LLM, an unmatched path, and
 * resource keys that are no label names as written. The whole exposition passes `promtool
 * check metrics` with nothing said, and a real Prometheus scrapes it with up 1 and no error.
 */
import { expect } from 'chai';
import {
  PROMETHEUS_3_ACCEPT,
  parseSamples,
  prometheusScraping,
  promtoolFindings,
  type ScrapingPrometheus,
  scrapeAsPrometheus,
  TEXT_FORMAT,
} from '#library-tests/helpers/scrape-check.js';
import { postActivity } from '../helpers/predict-request.js';
import { type SpawnedServer, spawnServer, untilReady } from '../helpers/spawn-server.js';
import { waitFor } from '../helpers/wait.js';

const GETS = [
  '/healthz',
  '/readyz',
  '/energy',
  '/carbon_intensity',
  '/carbon_intensity/history',
  '/dashboard',
  '/dashboard/data',
  '/predict',
  '/chat',
  '/no/such/page',
];

async function chat(url: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

async function traffic(url: string): Promise<void> {
  for (const path of GETS) await (await fetch(`${url}${path}`)).arrayBuffer();
  await (await fetch(`${url}/healthz`, { method: 'DELETE' })).arrayBuffer();
  expect((await postActivity(url)).status).to.equal(200);
  expect((await postActivity(url, 'watching tv for 2 hours')).status).to.equal(200);
  expect((await postActivity(url, '')).status).to.be.within(400, 499);
  const hello = [{ role: 'user', content: 'hello there' }];
  expect(await chat(url, { messages: hello })).to.equal(200);
  expect(await chat(url, { messages: [] })).to.equal(400);
}

describe('the service /metrics, checked by promtool and a real Prometheus', function () {
  this.timeout(90_000);
  let server: SpawnedServer | undefined;
  let prometheus: ScrapingPrometheus | undefined;

  before(async () => {
    server = await spawnServer({
      OTEL_RESOURCE_ATTRIBUTES: 'service_name=dup,1st=x',
      MOCK_LLM_PORT: '0',
      MOCK_LLM_LATENCY_MS: '0',
    });
    await untilReady(server.url);
    await traffic(server.url);
    // The operations' series appear at the sample after they end (their energy settled).
    const url = `${server.url}/metrics`;
    const settled = async () =>
      (await scrapeAsPrometheus(url)).text.includes('carbonscope_operation="/chat"');
    await waitFor("the operations' series", settled, 20_000);
  });

  after(async () => {
    await prometheus?.stop();
    await server?.stop();
  });

  it('serves the text format 0.0.4 to Prometheus, which promtool passes with nothing said', async () => {
    const scrape = await scrapeAsPrometheus(`${server?.url}/metrics`);
    expect(scrape.status).to.equal(200);
    expect(scrape.contentType).to.equal(TEXT_FORMAT);
    // Prometheus asks for gzip: it gets it (fetch undoes it here, as Prometheus does).
    expect(scrape.contentEncoding).to.equal('gzip');
    for (const family of [
      'http_server_request_duration_seconds',
      'carbonscope_inference_duration_seconds',
      'carbonscope_predictions_total',
      'gen_ai_client_token_usage',
      'carbonscope_llm_energy_joules_total',
      'carbonscope_operation_energy_joules',
    ]) {
      expect(scrape.text, family).to.match(new RegExp(`^# TYPE ${family} `, 'm'));
    }
    for (const status of ['200', '400', '404', '405']) {
      expect(scrape.text).to.include(`http_response_status_code="${status}"`);
    }
    expect(promtoolFindings(scrape.text)).to.equal('');
  });

  it("answers Prometheus 3's Accept (escaping=, other weights) with the same format", async () => {
    const scrape = await scrapeAsPrometheus(`${server?.url}/metrics`, PROMETHEUS_3_ACCEPT);
    expect(scrape.status).to.equal(200);
    expect(scrape.contentType).to.equal(TEXT_FORMAT);
    expect(scrape.contentEncoding).to.equal('gzip');
    expect(promtoolFindings(scrape.text)).to.equal('');
  });

  it('is scraped by Prometheus with up 1 and no error', async () => {
    prometheus = await prometheusScraping(`${server?.url}/metrics`);
    const target = await prometheus.target();
    expect(target.lastError, prometheus.log()).to.equal('');
    expect(target.health).to.equal('up');
    const [info] = await prometheus.query('target_info');
    expect(info?.metric).to.include({ service_name: 'carbonscope;dup', key_1st: 'x' });
    const stored = await prometheus.query('count({job="target"})');
    expect(stored[0]?.value).to.be.greaterThan(500);
    // Read from the gzip it was sent: series that no longer move are stored as served.
    const served = parseSamples((await scrapeAsPrometheus(`${server?.url}/metrics`)).text);
    const PREDICTIONS = 'carbonscope_predictions_total';
    const still = served.filter((s) => s.name === PREDICTIONS);
    expect(still).to.have.length.of.at.least(1);
    const kept = await prometheus.query(PREDICTIONS);
    expect(kept).to.have.length(still.length);
    for (const { metric, value } of kept) {
      const { __name__, job, instance, ...labels } = metric;
      const mine = still.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels));
      expect(value, JSON.stringify(labels)).to.equal(mine?.value);
    }
  });
});
