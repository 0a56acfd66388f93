/**
 * The compose stack's scrape of the OTel Collector, against the real Prometheus (Debian's
 * package): the job from prometheus/prometheus.yml, pointed at a stand-in for the collector's
 * prometheus exporter that serves what it would (job and instance from service.name and
 * service.instance.id, as the exporter sets them) plus a series pushed over OTLP that claims to
 * be Prometheus itself. Whatever a pusher writes, it must not set the job or instance labels.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { projectRoot } from '../../../src/paths.js';
import {
  type PrometheusClient,
  type RunningPrometheus,
  startPrometheus,
} from '../../helpers/prometheus.js';
import { panelQueries } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const COUNT = 'http_server_request_duration_seconds_count';

/** One request histogram series as the exporter writes it: job and instance are the pusher's. */
function histogram(job: string, instance: string, route: string, count: number): string[] {
  const labels = `job="${job}",instance="${instance}",http_route="${route}",http_response_status_code="200"`;
  return [
    `http_server_request_duration_seconds_bucket{${labels},le="+Inf"} ${count}`,
    `http_server_request_duration_seconds_sum{${labels}} ${count / 100}`,
    `${COUNT}{${labels}} ${count}`,
  ];
}

/** The host energy counter of each pusher: it moves at every scrape, as a running app's does. */
function energy(scrape: number): string[] {
  const pushers = [
    ['carbonscope', '3f1c-replica-a'],
    ['carbonscope', '9b2e-replica-b'],
    ['prometheus', 'localhost:9090'],
  ];
  return [
    '# TYPE hw_host_energy_joules_total counter',
    ...pushers.map(
      ([job, instance]) =>
        `hw_host_energy_joules_total{job="${job}",instance="${instance}",hw_id="host"} ${scrape * 5}`,
    ),
  ];
}

function exposition(scrape: number): string {
  return [
    '# TYPE http_server_request_duration_seconds histogram',
    ...histogram('carbonscope', '3f1c-replica-a', '/healthz', 5),
    ...histogram('carbonscope', '9b2e-replica-b', '/healthz', 7),
    // A pusher that names itself after the prometheus job and its target.
    ...histogram('prometheus', 'localhost:9090', '/forged', 1),
    ...energy(scrape),
    '',
  ].join('\n');
}

interface ScrapeJob {
  job_name: string;
  static_configs: Array<{ targets: string[] }>;
  [key: string]: unknown;
}

describe('stack: the collector scrape keeps pushed labels out of job and instance (real Prometheus)', function () {
  this.timeout(60_000);
  let exporter: Server;
  let prometheus: RunningPrometheus | undefined;
  let prom: PrometheusClient;

  before(async () => {
    let scrapes = 0;
    exporter = createServer((_req, res) => {
      scrapes += 1;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(scrapes));
    });
    exporter.listen(0, '127.0.0.1');
    await once(exporter, 'listening');
    const address = exporter.address();
    const target = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const compose = parse(
      readFileSync(join(projectRoot, 'prometheus', 'prometheus.yml'), 'utf8'),
    ) as {
      scrape_configs: ScrapeJob[];
    };
    const job = compose.scrape_configs.find((j) => j.job_name === 'otel-collector');
    expect(job, 'the otel-collector job of prometheus.yml').to.not.equal(undefined);
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      // The Instances panel counts the running apps of their recording rule.
      rule_files: ['rules.yml'],
      scrape_configs: [{ ...job, static_configs: [{ targets: [target] }] }],
    };
    prometheus = await startPrometheus(() => stringify(config));
    prom = prometheus.client;
    await waitFor('three series scraped', async () => (await prom.query(COUNT)).length === 3);
  });

  after(async () => {
    await prometheus?.stop();
    exporter?.close();
  });

  it('labels every series with the scrape job, not the job a pusher claims', async () => {
    const series = await prom.query(COUNT);
    expect(new Set(series.map((s) => s.metric.job))).to.deep.equal(new Set(['otel-collector']));
    expect(await prom.query(`${COUNT}{job="prometheus"}`)).to.have.length(0);
  });

  it('keeps each app replica apart by its service instance id', async () => {
    const ids = (await prom.query(`${COUNT}{http_route="/healthz"}`)).map(
      (s) => s.metric.service_instance_id,
    );
    expect(ids).to.have.members(['3f1c-replica-a', '9b2e-replica-b']);
    const instances = panelQueries().find((q) => q.panel === 'Instances');
    expect(instances, 'the Instances panel').to.not.equal(undefined);
    // Once the rule has seen each counter move (its second scrape, then an evaluation).
    const expr = instances?.expr ?? '';
    await waitFor('the running apps recorded', async () => {
      const [count] = await prom.query(expr);
      return Number(count?.value[1]) === 3;
    });
  });
});
