/**
 * register's Prometheus endpoint as Prometheus reads it: after requests on every kind of route
 * and tracked operations whose names need escaping (quotes, backslashes, newlines, emoji, a
 * lone surrogate), and resource attributes whose keys are no label names as written, the whole
 * exposition passes `promtool check metrics` with nothing said, and a real Prometheus scrapes it
 * (up 1, no error) and stores each series with the endpoint's labels and values.
 */
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { freePort } from '../helpers/ports.js';
import {
  PROMETHEUS_3_ACCEPT,
  parseSamples,
  prometheusScraping,
  promtoolFindings,
  type ScrapingPrometheus,
  scrapeAsPrometheus,
  TEXT_FORMAT,
} from '../helpers/scrape-check.js';
import { type Spawned, spawnUntil } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

const APP = join(libraryRoot, 'test', 'fixtures', 'register', 'exposition.js');
const OPERATIONS = ['a"b\\c\nd', 'emoji 🌍 op', 'lone \ufffd surrogate', 'cr\rhere', 'tab\there'];
const ROUTE = '/items/:id "quoted" \\ back\nslash 🌍';
const COUNT = 'carbonscope_operation_energy_joules_count';

/** The endpoint's operation counts: operation and count. */
async function operationCounts(url: string): Promise<Array<[string | undefined, number]>> {
  const counts = parseSamples((await scrapeAsPrometheus(url)).text).filter((s) => s.name === COUNT);
  return counts.map((s) => [s.labels.carbonscope_operation, s.value]);
}

/** Whether every operation's series is there, each counted twice (/ops ran twice). */
function everyOperationServed(counts: Array<[string | undefined, number]>): boolean {
  return OPERATIONS.every((operation) =>
    counts.some(([name, value]) => name === operation && value === 2),
  );
}

describe("register's Prometheus endpoint, checked by promtool and a real Prometheus", function () {
  this.timeout(60_000);
  let app: Spawned | undefined;
  let prometheus: ScrapingPrometheus | undefined;
  let metricsUrl = '';

  before(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    app = await spawnUntil(process.execPath, ['--import', 'carbonscope/register', APP], {
      cwd: dirname(APP),
      env: childEnv({
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        // Keys that are no label names as written: two make one, one begins with a digit.
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=shop,service_name=dup,1st=x',
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        ENERGY_SAMPLE_INTERVAL_MS: '200',
        CARBONSCOPE_LOG_LEVEL: 'info',
      }),
      waitFor: /^listening \d+$/,
    });
    const base = `http://127.0.0.1:${/\d+$/.exec(app.stdout.find((l) => l.startsWith('listening')) ?? '')?.[0]}`;
    await waitFor(
      "register's line that its own SDK serves prometheus",
      () => app?.stderr.some((l) => l.includes('own SDK: prometheus')) === true,
      15_000,
    );
    for (const path of ['/ops', '/items/1', '/items/2', '/fail', '/nope', '/ops']) {
      await (await fetch(`${base}${path}`)).arrayBuffer();
    }
    // An operation's series appear at the sample after it ends (its energy settled).
    await waitFor('every operation counted twice', () => operationCounts(metricsUrl), {
      timeoutMs: 15_000,
      intervalMs: 200,
      until: everyOperationServed,
    });
  });

  after(async () => {
    await prometheus?.stop();
    await app?.stop();
  });

  it('serves the text format 0.0.4 to Prometheus, which promtool passes with nothing said', async () => {
    const scrape = await scrapeAsPrometheus(metricsUrl);
    expect(scrape.status).to.equal(200);
    // OpenMetrics is asked for first; the endpoint does not claim it, and says what it sends.
    expect(scrape.contentType).to.equal(TEXT_FORMAT);
    // Prometheus asks for gzip: it gets it (fetch undoes it here, as Prometheus does).
    expect(scrape.contentEncoding).to.equal('gzip');
    expect(scrape.text).not.to.include('# EOF');
    const samples = parseSamples(scrape.text);
    for (const operation of [...OPERATIONS, ROUTE, 'unmatched', '/fail']) {
      const count = samples.find(
        (s) => s.name === COUNT && s.labels.carbonscope_operation === operation,
      );
      expect(count?.value, JSON.stringify(operation)).to.be.at.least(1);
    }
    expect(promtoolFindings(scrape.text)).to.equal('');
  });

  it("answers Prometheus 3's Accept (escaping=, other weights) with the same format", async () => {
    const scrape = await scrapeAsPrometheus(metricsUrl, PROMETHEUS_3_ACCEPT);
    expect(scrape.status).to.equal(200);
    expect(scrape.contentType).to.equal(TEXT_FORMAT);
    expect(scrape.contentEncoding).to.equal('gzip');
    expect(promtoolFindings(scrape.text)).to.equal('');
  });

  it('is scraped by Prometheus with up 1 and no error, each series as the endpoint wrote it', async () => {
    prometheus = await prometheusScraping(metricsUrl);
    const target = await prometheus.target();
    expect(target.lastError, prometheus.log()).to.equal('');
    expect(target.health).to.equal('up');
    const [up] = await prometheus.query('up{job="target"}');
    expect(up?.value).to.equal(1);
    // The operations' counts no longer move (no more traffic): the stored values are the
    // endpoint's, under labels that read back exactly as written.
    const stored = await prometheus.query(COUNT);
    const served = parseSamples((await scrapeAsPrometheus(metricsUrl)).text).filter(
      (s) => s.name === COUNT,
    );
    for (const operation of [...OPERATIONS, ROUTE]) {
      const mine = served.find((s) => s.labels.carbonscope_operation === operation);
      const theirs = stored.find((s) => s.metric.carbonscope_operation === operation);
      expect(mine, JSON.stringify(operation)).not.to.equal(undefined);
      expect(theirs?.value, JSON.stringify(operation)).to.equal(mine?.value);
    }
    const [info] = await prometheus.query('target_info');
    expect(info?.metric).to.include({ service_name: 'shop;dup', key_1st: 'x' });
  });
});
