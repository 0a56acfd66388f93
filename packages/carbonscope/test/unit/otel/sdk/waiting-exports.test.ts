import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { expect } from 'chai';
import {
  exportsWithin,
  OwnRequests,
  stopWaiting,
} from '../../../../src/otel/sdk/export-deadline.js';
import { type ExportResult, failureOf } from '../../../../src/otel/sdk/optional-sdk.js';
import { STOPPED_WAITING, WaitingExports } from '../../../../src/otel/sdk/waiting-exports.js';
import { oneCounterMetrics } from '../../../helpers/metrics.js';

describe('WaitingExports', () => {
  // Before its first request reaches the channel none of the exporter's agents is watched: a
  // request created then is not counted, and may carry its body already (gzip, compressed while
  // the stop came). Answered failed, its points were carried and sent twice under delta.
  it('answers no export at the stop before a request of it was seen: it is awaited', () => {
    const waiting = new WaitingExports();
    let failed = 0;
    waiting.began(() => failed++);
    waiting.stop();
    expect(failed).to.equal(0);
  });

  it('answers at the stop an export whose request closed, and refuses its retry unsent', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(503).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true });
    try {
      const waiting = new WaitingExports();
      let failed = 0;
      waiting.began(() => failed++);
      const first = request({ agent, host: '127.0.0.1', port, method: 'POST' });
      first.end('x');
      // As the request-start channel tells exportsWithin once its body is sent.
      await once(first, 'finish');
      waiting.sent(first, agent);
      const [answer] = (await once(first, 'response')) as [NodeJS.ReadableStream];
      answer.resume();
      await once(first, 'close');
      waiting.stop();
      expect(failed).to.equal(1);
      const retry = request({ agent, host: '127.0.0.1', port, method: 'POST' });
      retry.end('x');
      const [error] = (await once(retry, 'error')) as [Error];
      expect(error.message).to.equal(STOPPED_WAITING);
      expect(requests).to.equal(1);
    } finally {
      agent.destroy();
      server.close();
    }
  });

  // An agent a factory gave (AgentFactory is public) may be the application's own: patched, its
  // addRequest refused every request of the application's from the stop on.
  it("never refuses a request through an agent a factory gave: it may be the application's", async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(requests === 1 ? 503 : 200, { 'retry-after': '1' }).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true });
    try {
      const own = new OwnRequests(async () => agent);
      const url = `http://127.0.0.1:${port}/v1/metrics`;
      const inner = new OTLPMetricExporter({
        url,
        timeoutMillis: 5_000,
        httpAgentOptions: own.agents,
      });
      const exporter = exportsWithin(inner, 5_000, own);
      const metrics = await oneCounterMetrics();
      const result = new Promise<ExportResult>((resolve) => exporter.export(metrics, resolve));
      for (let i = 0; i < 100 && requests < 1; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      stopWaiting(exporter);
      // Awaited as before: its retry goes through the agent, and gets through.
      expect(failureOf(await result)).to.equal(undefined);
      expect(requests).to.equal(2);
      const app = request({ agent, host: '127.0.0.1', port, method: 'POST' });
      app.end('x');
      const [answer] = (await once(app, 'response')) as [
        NodeJS.ReadableStream & { statusCode?: number },
      ];
      answer.resume();
      expect(answer.statusCode).to.equal(200);
    } finally {
      agent.destroy();
      server.close();
    }
  });
});
