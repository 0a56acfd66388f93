import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import {
  type BoundedFetchOptions,
  FetchFailure,
  fetchExposition,
  fetchJson,
  urlForLog,
} from '../../../../src/energy/sources/bounded-fetch.js';
import { createExporterSource } from '../../../../src/energy/sources/exporter-source.js';
import { keplerSpec } from '../../../../src/energy/sources/kepler.js';
import { deadlineTimersLeft } from '../../../helpers/deadline-timers.js';
import {
  containerId,
  type KeplerNode,
  keplerExposition,
  singleContainerNode,
} from '../../../helpers/exporters.js';
import { answeringServer } from '../../../helpers/held-loop.js';
import { oddValues } from '../../../helpers/textless-throws.js';

/** What `work` settled with, or 'hung' when it had not settled after `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | FetchFailure | 'hung'> {
  const settled = work.catch((err: unknown) => {
    if (err instanceof FetchFailure) return err;
    throw err;
  });
  const late = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref());
  return Promise.race([settled, late]);
}

/**
 * Node 20's fetch can leave a body read unsettled when the timeout aborts it while it inflates a
 * gzip body (a bomb of 4 MB that inflates to 4 GB hung about one read in two): this body stands
 * for it, ignoring every signal.
 */
const neverEnds = () =>
  new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new TextEncoder().encode('# HELP x\n')),
    pull: () => new Promise(() => {}),
  });

/** 1 MB of spaces as one gzip member, about 1 KB. */
const GZIP_MEGABYTE_OF_SPACES = gzipSync(Buffer.alloc(1 << 20, 0x20));

describe('energy/sources/bounded-fetch', () => {
  const options = (fetch: typeof globalThis.fetch): BoundedFetchOptions => ({
    timeoutMs: 100,
    maxBytes: 1 << 20,
    fetch,
  });

  for (const [name, read] of [
    [
      'an exposition',
      (o: BoundedFetchOptions) => fetchExposition('http://x/metrics', () => true, o),
    ],
    ['a JSON answer', (o: BoundedFetchOptions) => fetchJson('http://x/api/v1/query', o)],
  ] as const) {
    it(`gives up on ${name} whose body never ends at the timeout, whatever fetch does with the signal`, async () => {
      const outcome = await within(
        read(options(async () => new Response(neverEnds(), { status: 200 }))),
        2000,
      );
      expect(outcome).to.be.instanceOf(FetchFailure);
      expect((outcome as FetchFailure).kind).to.equal('timeout');
    });
  }

  // Node runs the timers that expired while a process was stopped (SIGSTOP, `docker pause`)
  // before it reads its sockets: AbortSignal.timeout aborted a read whose answer was there.
  // Each fetch's deadline timer stayed until it expired (unref'd, its controller and signal with
  // it): an exporter read every second with a 10 s timeout kept 10 of them, 1,000 fetches 1,000.
  it('ends the deadline timer of each fetch as it settles, not when the timeout expires', async () => {
    const answer = async (url: string | URL | Request) =>
      new Response(String(url).endsWith('/api') ? '{"a":1}' : 'x 1\n');
    const o = { ...options(answer), timeoutMs: 60_000 };
    const left = await deadlineTimersLeft(async () => {
      for (let i = 0; i < 100; i++) {
        expect(await fetchJson('http://x/api', o)).to.deep.equal({ a: 1 });
        expect(await fetchExposition('http://x/metrics', () => true, o)).to.have.length(1);
      }
    });
    expect(left, 'deadline timers left').to.equal(0);
  });

  it('reads an answer that came while the process was held past the timeout', async () => {
    const server = await answeringServer('kepler_node_package_joules_total{zone="x"} 5\n');
    try {
      const o = { timeoutMs: 100, maxBytes: 1 << 20 };
      const url = `${server.url}/metrics`;
      // Opens the connection the held reads reuse, outside their deadline: a process's first
      // fetch loads undici's client and parser, 300-600 ms at load 20 before its request left.
      await (await fetch(url)).text();
      await server.holdNextRequest(400);
      const samples = await fetchExposition(url, () => true, o);
      expect(samples.map((s) => s.value)).to.deep.equal([5]);
      await server.holdNextRequest(400);
      await fetchJson(server.url, o).then(
        () => expect.fail('expected a malformed answer, not a timeout'),
        (err: FetchFailure) => expect(err.kind).to.equal('malformed'),
      );
      // Each request left on the open connection as its deadline was set, in the same turn.
      expect(server.connections(), 'connections').to.equal(1);
    } finally {
      await server.close();
    }
  });

  it('gives up at the timeout on a fetch that never answers, whatever it does with the signal', async () => {
    const outcome = await within(
      fetchExposition(
        'http://x/metrics',
        () => true,
        options(() => new Promise(() => {})),
      ),
      2000,
    );
    expect(outcome).to.be.instanceOf(FetchFailure);
    expect((outcome as FetchFailure).kind).to.equal('timeout');
  });

  describe('against a loopback exporter', () => {
    let server: Server;
    let url: string;
    let answer: (res: import('node:http').ServerResponse) => void;
    beforeEach(async () => {
      server = createServer((_req, res) => answer(res));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    });
    afterEach(async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });

    it('refuses a gzip body that inflates past its limit, having read no more than that', async () => {
      // 4 GB of spaces, 4 MB on the wire: streamed to the reader, it is cut at the limit. Sent as
      // 4,096 gzip members of 1 MB each (one body, as gunzip reads members one after another),
      // compressed once: compressed as it was sent, at level 9, the server's share took 90-110 MB
      // of spaces and 360-420 ms of CPU before the reader cut it, which load 30 stretched past
      // the 5 s timeout (a 'timeout' at 4.6 s). Sent this way, the exchange takes 150-210 ms.
      answer = (res) => {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        let sent = 0;
        const more = () => {
          while (sent < 4096) {
            sent++;
            if (!res.write(GZIP_MEGABYTE_OF_SPACES)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      };
      const before = process.memoryUsage().rss;
      // No metric is wanted, so its one long line is skipped rather than refused as malformed.
      const err = await fetchExposition(url, () => false, { timeoutMs: 5000, maxBytes: 8 << 20 })
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(FetchFailure);
      expect((err as FetchFailure).kind).to.equal('too-large');
      expect(process.memoryUsage().rss - before).to.be.below(200 << 20);
    });

    it('gives up on a body that stalls mid-way at the timeout', async () => {
      answer = (res) => {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        const gzip = createGzip();
        gzip.pipe(res);
        gzip.write('# HELP kepler_container_joules_total x\n');
        gzip.flush();
      };
      const outcome = await within(
        fetchExposition(url, () => true, { timeoutMs: 150, maxBytes: 1 << 20 }),
        2000,
      );
      expect(outcome).to.be.instanceOf(FetchFailure);
      expect((outcome as FetchFailure).kind).to.equal('timeout');
    });

    // The deadline acts after the I/O of its turn (atDeadline): a byte read in every turn must
    // not put it off to the next one, for ever.
    it('gives up at the timeout on a body that drips a byte every millisecond', async () => {
      let drip: NodeJS.Timeout | undefined;
      answer = (res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        drip = setInterval(() => res.write('#'), 1);
        res.once('close', () => clearInterval(drip));
      };
      try {
        const outcome = await within(
          fetchExposition(url, () => true, { timeoutMs: 150, maxBytes: 1 << 20 }),
          5000,
        );
        expect(outcome).to.be.instanceOf(FetchFailure);
        expect((outcome as FetchFailure).kind).to.equal('timeout');
      } finally {
        clearInterval(drip);
      }
    });
  });

  // One read at a time: a read that never settled kept the exporter from being read again, so
  // its figures stayed stale (handed over to the estimate) until the process restarted.
  it('lets an exporter source read again at its next sample after a body that never ended', async () => {
    const id = containerId('web');
    const nodes: KeplerNode[] = [singleContainerNode(id)];
    let calls = 0;
    const fetch = async () => {
      calls++;
      if (calls === 1) return new Response(neverEnds(), { status: 200 });
      return new Response(keplerExposition(nodes), { status: 200 });
    };
    const spec = keplerSpec({ containerId: id, from: [] });
    const source = createExporterSource({
      spec,
      read: () => fetchExposition('http://x/metrics', spec.wanted, options(fetch)),
      where: 'http://x/metrics',
      intervalMs: 1000,
      background: false,
    });
    try {
      expect(await within(source.refresh(), 2000)).not.to.equal('hung');
      expect(await within(source.probe(), 2000)).to.include({ ok: true });
      expect(calls).to.equal(2);
    } finally {
      await source.close();
    }
  });
});

describe('urlForLog', () => {
  it("shows origin and path, with a path's secret matrix parameter and nested userinfo masked", () => {
    // The query is left out (it may hold a token); the path may hold one as well.
    expect(urlForLog('http://kepler:9102/metrics;token=SECRET-T?x=1')).to.equal(
      'http://kepler:9102/metrics;token=[redacted]',
    );
    expect(urlForLog('http://prom:9090/r/http://u:SECRET-PW@idp/api/v1/query')).to.equal(
      'http://prom:9090/r/http://[redacted]@idp/api/v1/query',
    );
    expect(urlForLog('http://kepler:9102/metrics')).to.equal('http://kepler:9102/metrics');
  });
});

// The global fetch is the application's to replace (a mock, an instrumentation): one that rejects
// with null or a Proxy made the failure's own reading throw ('name' of null, instanceof through
// the trap), so the reason told was that TypeError's, or the trap's, not the value's.
describe('energy/sources/bounded-fetch: a fetch that rejects with no Error', () => {
  const odd = oddValues(
    { name: 'null', value: () => null, said: 'null' },
    { name: 'undefined', value: () => undefined, said: 'undefined' },
  );
  for (const { name, value, said } of odd) {
    it(`${name}: unreachable, the value named as messageOf names it`, async () => {
      const rejecting = (() => Promise.reject(value())) as typeof fetch;
      const o = { timeoutMs: 100, maxBytes: 1 << 20, fetch: rejecting };
      for (const read of [
        () => fetchExposition('http://x/metrics', () => true, o),
        () => fetchJson('http://x/api/v1/query', o),
      ]) {
        const failure = await read().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure).to.be.instanceOf(FetchFailure);
        expect(failure).to.include({ kind: 'unreachable', message: said });
      }
    });
  }
});
