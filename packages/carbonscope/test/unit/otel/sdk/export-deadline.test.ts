import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { expect } from 'chai';
import {
  EXPORT_TIMED_OUT,
  exportsWithin,
  OwnRequests,
} from '../../../../src/otel/sdk/export-deadline.js';
import type { ExportResult } from '../../../../src/otel/sdk/optional-sdk.js';
import { oneCounterMetrics } from '../../../helpers/metrics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** exportsWithin's deadline of each export in these specs. */
const TIMEOUT_MS = 1_500;

/** What a spec gets: one export of the exporter, resolved with its result and how long it took. */
type Push = () => { began: number; result: Promise<ExportResult> };

/**
 * Runs `spec` with an exporter (exportsWithin, TIMEOUT_MS) pushing to a collector that holds
 * each request it is sent, but those `answer` answers (given the requests before, counted).
 * The exporter's own (idle) timeout is out of the way: only exportsWithin's cut ends a push.
 */
async function withHeldCollector(
  answer: (count: number, res: ServerResponse) => boolean,
  spec: (push: Push, held: IncomingMessage[]) => Promise<void>,
): Promise<void> {
  const held: IncomingMessage[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    if (!answer(count++, res)) held.push(req);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const own = new OwnRequests({ keepAlive: true });
    const inner = new OTLPMetricExporter({
      url: `http://127.0.0.1:${port}/v1/metrics`,
      timeoutMillis: 30_000,
      httpAgentOptions: own.agents,
    });
    const exporter = exportsWithin(inner, TIMEOUT_MS, own);
    const metrics = await oneCounterMetrics();
    const push: Push = () => ({
      began: performance.now(),
      result: new Promise<ExportResult>((resolve) => exporter.export(metrics, resolve)),
    });
    await spec(push, held);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** How long after it began `push` was answered, and its error's message. */
async function ended(push: ReturnType<Push>): Promise<{ message?: string; tookMs: number }> {
  const result = await push.result;
  return { message: result.error?.message, tookMs: performance.now() - push.began };
}

describe('exportsWithin: each export cut at its own deadline', () => {
  // A request cannot be told its export: it was cut at the earliest deadline of the exporter's
  // exports in flight, so a push that began while another was held got what that one had left.
  it("cuts a push that starts beside a held one at its own deadline, not the held one's", async () => {
    await withHeldCollector(
      () => false,
      async (push, held) => {
        const first = push();
        for (let i = 0; i < 200 && held.length < 1; i++) await sleep(10);
        expect(held).to.have.length(1);
        await sleep(first.began + 1_000 - performance.now());
        const second = push();
        const [one, two] = [await ended(first), await ended(second)];
        expect(held).to.have.length(2);
        expect(one.message).to.equal(EXPORT_TIMED_OUT);
        expect(two.message).to.equal(EXPORT_TIMED_OUT);
        // The held one's deadline came 500 ms into the second: the second ran its own 1.5 s.
        expect(two.tookMs).to.be.at.least(TIMEOUT_MS - 50);
        expect(one.tookMs).to.be.below(TIMEOUT_MS + 250);
      },
    );
  });

  // Known to be sending (its request alone could be the second's), the later push leaves the
  // earlier's retry to that one's deadline: not the latest's, which would let it run on.
  it("cuts an earlier push's retry at its own deadline while a later push is sending", async () => {
    const refuseFirst = (count: number, res: ServerResponse) => {
      if (count > 0) return false;
      setTimeout(() => res.writeHead(503, { 'retry-after': '0' }).end(), 800);
      return true;
    };
    await withHeldCollector(refuseFirst, async (push, held) => {
      const first = push();
      await sleep(500);
      const second = push();
      const one = await ended(first);
      // The second's request, and the first's retry (refused at 800 ms, tried again at once).
      expect(held).to.have.length(2);
      expect(one.message).to.equal(EXPORT_TIMED_OUT);
      // Its own deadline at 1.5 s; the second's at 2 s.
      expect(one.tookMs).to.be.below(TIMEOUT_MS + 250);
      expect((await ended(second)).message).to.equal(EXPORT_TIMED_OUT);
    });
  });
});
