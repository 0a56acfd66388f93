// A process stopped between two pushes (SIGSTOP, a serverless platform freezing it between
// invocations, `docker pause`) comes back with its exporter's kept-alive connection as it left
// it, though the collector, a proxy or a NAT closed or dropped it meanwhile: Node runs the push's
// timer before it reads the close. The first push after was sent on that dead connection ("socket
// hang up"), and failed where the exporter's timeout left no room for its retry 1 s later: under
// delta temporality, what it carried was lost.
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { expect } from 'chai';
import { exportsWithin, OwnRequests } from '../../../../src/otel/sdk/export-deadline.js';
import { exporterAgentOptions } from '../../../../src/otel/sdk/last-push-agent.js';
import { type ExportResult, failureOf } from '../../../../src/otel/sdk/optional-sdk.js';
import { answeringServer, blockFor } from '../../../helpers/held-loop.js';
import { oneCounterMetrics } from '../../../helpers/metrics.js';

describe('an OTLP exporter after its process was stopped between pushes', () => {
  /** An exporter as otlpMetricExporter makes it, its connections reused while idle `idleMs`. */
  function exporterTo(url: string, idleMs: number, agent?: Agent) {
    const own = new OwnRequests(agent ? async () => agent : exporterAgentOptions({}), idleMs);
    const timeoutMillis = 500;
    const inner = new OTLPMetricExporter({ url, timeoutMillis, httpAgentOptions: own.agents });
    return exportsWithin(inner, timeoutMillis, own);
  }

  async function exportOnce(exporter: OTLPMetricExporter): Promise<ExportResult> {
    const metrics = await oneCounterMetrics();
    return new Promise((resolve) => exporter.export(metrics, resolve));
  }

  it('sends its first push on a new connection, not on the one the collector closed meanwhile', async () => {
    const collector = await answeringServer('', 100);
    const exporter = exporterTo(`${collector.url}/v1/metrics`, 300);
    try {
      expect(failureOf(await exportOnce(exporter))).to.equal(undefined);
      // Stopped past the collector's idle close and the reuse bound: its close waits unread.
      blockFor(600);
      expect(failureOf(await exportOnce(exporter))).to.equal(undefined);
      expect(collector.received()).to.equal(2);
      expect(collector.connections()).to.equal(2);
    } finally {
      await exporter.shutdown();
      await collector.close();
    }
  });

  it('keeps pushing on its kept-alive connection while pushes come within the bound', async () => {
    const collector = await answeringServer('');
    const exporter = exporterTo(`${collector.url}/v1/metrics`, 60_000);
    try {
      for (let i = 0; i < 3; i++) expect(failureOf(await exportOnce(exporter))).to.equal(undefined);
      expect(collector.received()).to.equal(3);
      expect(collector.connections()).to.equal(1);
    } finally {
      await exporter.shutdown();
      await collector.close();
    }
  });

  it("closes only its pushes' idle connections, not others of an agent it was given", async () => {
    const collector = await answeringServer('');
    const other = await answeringServer('{}');
    // The application's keep-alive agent, given to otlpMetricExporter as its `agents` too.
    const shared = new Agent({ keepAlive: true });
    const fetchOther = async () => {
      const [response] = await once(get(other.url, { agent: shared }), 'response');
      response.resume();
      await once(response, 'end');
      // The agent takes the socket back a tick after the answer's end.
      await new Promise((resolve) => setImmediate(resolve));
    };
    const exporter = exporterTo(`${collector.url}/v1/metrics`, 0, shared);
    try {
      await fetchOther();
      // Every push is past a bound of 0 ms: the second closes the first's connection.
      for (let i = 0; i < 2; i++) expect(failureOf(await exportOnce(exporter))).to.equal(undefined);
      expect(collector.connections()).to.equal(2);
      await fetchOther();
      expect(other.connections()).to.equal(1);
    } finally {
      await exporter.shutdown();
      shared.destroy();
      await Promise.all([collector.close(), other.close()]);
    }
  });
});
