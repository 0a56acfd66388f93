import { once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { METRICS, prometheusName } from '../../../src/metrics/index.js';
import { withHttpMetrics } from '../../helpers/http-metrics.js';
import { createTestMetrics, parseSamples } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';
import { steadyCarbonscope } from '../energy/scripted.js';

const COUNT = `${prometheusName(METRICS.httpDuration)}_count`;

/**
 * A client that reads the head of GET `path` and closes its connection at once, as a browser
 * leaving a page closes its EventSource; resolves with the status it read.
 */
async function readHeadAndLeave(port: number, path: string): Promise<number | undefined> {
  const req = request({ port, host: '127.0.0.1', path, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [{ statusCode?: number }];
  req.destroy();
  return res.statusCode;
}

describe('http: a streamed answer its client closes after the head', () => {
  it('is counted with the status it sent and no error.type; one left before any answer keeps _OTHER', async () => {
    const metrics = createTestMetrics();
    const { cs, ended } = await withHttpMetrics(metrics);
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      held.push(res);
      // Server-Sent Events: the head and a first event now, the stream held open after.
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: hello\n\n');
      }
    });
    cs.trackRequests({ servers: [server] });
    try {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      expect(await readHeadAndLeave(port, '/events')).to.equal(200);
      await waitFor('the stream to end', () => ended.length === 1);
      // A request its client leaves before any answer: its socket closed, nothing sent.
      const silent = request({ port, host: '127.0.0.1', path: '/silent', agent: false });
      silent.on('error', () => {});
      silent.end();
      await waitFor('the silent request to arrive', () => held.length === 2);
      silent.destroy();
      await waitFor('the silent request to end', () => ended.length === 2);
      cs.meter.sampleNow();
      const counted = parseSamples(await metrics.scrape()).filter((s) => s.name === COUNT);
      const seen = counted.map(
        (s) => `${s.labels.http_response_status_code ?? '-'} ${s.labels.error_type ?? '-'}`,
      );
      expect(seen.sort()).to.deep.equal(['- _OTHER', '200 -']);
      expect(ended.map((f) => f.status)).to.deep.equal([200, undefined]);
    } finally {
      for (const res of held) res.destroy();
      server.close();
      await cs.stop();
      await metrics.shutdown();
    }
  });

  // A body the server failed to make after its head (a database cursor that threw, piped into
  // the response) is cut off: its client reads ECONNRESET, not the end of a 200. It counted 200
  // and no error.type, as a stream its client left does; it keeps no status, as OTel's http
  // instrumentation gives it an error.type.
  it('one its server destroyed with an error after the head keeps no status', async () => {
    const cs = await steadyCarbonscope();
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    let fail: (() => void) | undefined;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const body = new Readable({ read() {} });
      body.push('a first row\n');
      fail = () => body.destroy(new Error('the cursor failed'));
      pipeline(body, res, () => {});
    });
    cs.trackRequests({ servers: [server] });
    try {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const req = request({ port, host: '127.0.0.1', path: '/rows', agent: false });
      req.end();
      const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream];
      const cut = once(res, 'error');
      await once(res, 'data');
      fail?.();
      await cut;
      await waitFor('the failed answer to end', () => ended.length === 1);
      expect(ended.map((f) => f.status)).to.deep.equal([undefined]);
    } finally {
      server.close();
      await cs.stop();
    }
  });
});
