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
import {
  runtimeCallsAddRequest,
  STOPPED_WAITING,
  WaitingExports,
} from '../../../../src/otel/sdk/waiting-exports.js';
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

  /**
   * An export refused (503) through a kept-alive agent, after `before` requests through it that
   * got through, as exportsWithin tells WaitingExports of them; then the stop. `bypass` takes the
   * patched addRequest off the agent once watched, as a runtime that no longer calls it would.
   * `calls`: whether the runtime is taken to call an agent's addRequest (runtimeCallsAddRequest).
   * Returns how many exports were answered at the stop, and how a retry after it went.
   */
  async function stopAfterRefusal(
    before: number,
    bypass: boolean,
    calls?: () => boolean,
  ): Promise<{ failed: number; retry: string; requests: number }> {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(requests > before ? 503 : 200).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true });
    try {
      let stopping = false;
      // The probe makes a ClientRequest: never as a request of an export starts.
      const asked =
        calls &&
        (() => {
          expect(stopping, 'the runtime asked at the stop alone').to.equal(true);
          return calls();
        });
      const waiting = new WaitingExports(asked);
      let failed = 0;
      const send = async () => {
        const sent = request({ agent, host: '127.0.0.1', port, method: 'POST' });
        sent.end('x');
        // As the request-start channel tells exportsWithin once its body is sent.
        await once(sent, 'finish');
        waiting.sent(sent, agent);
        if (bypass) Reflect.deleteProperty(agent, 'addRequest');
        const [answer] = (await once(sent, 'response')) as [NodeJS.ReadableStream];
        answer.resume();
        await once(sent, 'close');
      };
      for (let i = 0; i < before; i++) await send();
      waiting.began(() => failed++);
      await send();
      stopping = true;
      waiting.stop();
      const retry = request({ agent, host: '127.0.0.1', port, method: 'POST' });
      retry.end('x');
      const [how] = await Promise.race([once(retry, 'error'), once(retry, 'response')]);
      (how as { resume?: () => void }).resume?.();
      const said = how instanceof Error ? how.message : `answered ${how.statusCode}`;
      return { failed, retry: said, requests };
    } finally {
      agent.destroy();
      server.close();
    }
  }

  it('answers at the stop an export whose request closed, and refuses its retry unsent', async () => {
    expect(runtimeCallsAddRequest(), 'this Node calls an agent its own addRequest').to.equal(true);
    const answered = { failed: 1, retry: STOPPED_WAITING };
    expect(await stopAfterRefusal(0, false)).to.deep.equal({ ...answered, requests: 1 });
    // The runtime's way not known, the agent's patched addRequest seen run (on its second).
    expect(await stopAfterRefusal(1, false, () => false)).to.deep.equal({
      ...answered,
      requests: 2,
    });
  });

  // Answered at the stop, the export's retry would still go out where the runtime no longer calls
  // the agent's addRequest: its delta points, carried by the last push, counted twice.
  it('awaits at the stop an export whose agent never ran its patched addRequest', async () => {
    // A runtime that goes round addRequest: the probe would say so, the patch never runs.
    expect(await stopAfterRefusal(1, true, () => false)).to.deep.equal({
      failed: 0,
      retry: 'answered 503',
      requests: 3,
    });
    // Its first request alone, sent before the agent was patched: nothing seen run yet.
    expect((await stopAfterRefusal(0, false, () => false)).failed).to.equal(0);
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
