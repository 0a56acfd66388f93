import { once } from 'node:events';
import { Agent, createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import { createTestMetrics } from '../../helpers/metrics.js';
import { freePort } from '../../helpers/ports.js';
import { steadyCarbonscope } from '../energy/scripted.js';

/** GET `path` on `agent`'s one kept-alive connection; resolves with the body. */
function fetchOn(agent: Agent, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('http: a request whose listener collects the metrics (a scrape of an own exporter)', () => {
  it('is left out; a request that collects after a wait, and the others, are counted', async () => {
    const metrics = createTestMetrics();
    const cs = await steadyCarbonscope();
    bindMetrics(metrics.meter, cs, { settleAtCollection: true });
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    const server = createServer((req, res) => {
      // As PrometheusExporter's own server does: the collection starts in the listener.
      if (req.url === '/metrics') void metrics.scrape().then((text) => res.end(text));
      else if (req.url === '/later')
        setImmediate(() => void metrics.scrape().then(() => res.end()));
      else res.end('ok');
    });
    const tracking = cs.trackRequests({ servers: [server] });
    // One connection for all: Node runs every request of a connection in one execution.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      for (const path of ['/metrics', '/plain', '/metrics', '/later', '/metrics', '/plain']) {
        await fetchOn(agent, port, path);
      }
      cs.meter.sampleNow();
      expect(ended.map((f) => `${f.operation} ${f.status}`)).to.deep.equal([
        'unmatched 200',
        'unmatched 200',
        'unmatched 200',
      ]);
      expect(tracking.inFlight).to.equal(0);
    } finally {
      agent.destroy();
      server.close();
      await cs.stop();
      await metrics.shutdown();
    }
  });
});

// register joins the application's SDK at its first sample, which a long start (a TypeScript
// runner compiling the app) puts seconds late: a Prometheus scrape of the application's exporter
// meanwhile reached no collection of carbonscope's, and was counted as an `unmatched` request
// (one per start under tsx, Node 20 and 24, with a figure on its span).
describe("http: a scrape of the application's PrometheusExporter before carbonscope binds", () => {
  it('is left out; a request to another server is counted', async () => {
    const cs = await steadyCarbonscope();
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    cs.trackRequests();
    const port = await freePort();
    let exporter: PrometheusExporter | undefined;
    await new Promise<void>((done) => {
      exporter = new PrometheusExporter({ host: '127.0.0.1', port }, () => done());
    });
    const provider = new MeterProvider({ readers: [exporter as PrometheusExporter] });
    const app = createServer((_req, res) => res.end('ok'));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      app.listen(0, '127.0.0.1');
      await once(app, 'listening');
      const appPort = (app.address() as AddressInfo).port;
      await fetchOn(agent, port, '/metrics');
      await fetchOn(agent, port, '/other');
      await fetchOn(agent, appPort, '/plain');
      cs.meter.sampleNow();
      expect(ended.map((f) => `${f.operation} ${f.status}`)).to.deep.equal(['unmatched 200']);
    } finally {
      agent.destroy();
      app.close();
      await cs.stop();
      await provider.shutdown();
    }
  });
});
