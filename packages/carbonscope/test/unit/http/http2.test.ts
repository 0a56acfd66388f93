import { EventEmitter, once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttp1Server } from 'node:http';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
} from 'node:http2';
import { get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import Fastify from 'fastify';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { setRoute } from '../../../src/http/index.js';
import type { Logger } from '../../../src/log.js';
import { METRICS, prometheusName } from '../../../src/metrics/index.js';
import type { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { collected, collectGarbage } from '../../helpers/collected.js';
import { withHttpMetrics } from '../../helpers/http-metrics.js';
import { createTestMetrics, parseSamples } from '../../helpers/metrics.js';
import { tempDirUntilExit } from '../../helpers/temp-dir.js';
import { openssl } from '../../helpers/tls-certs.js';
import { waitFor } from '../../helpers/wait.js';
import { memoryLogger, steadyCarbonscope } from '../energy/scripted.js';

/** carbonscope tracking requests (only `servers`' when given); the operations it ended. */
async function tracking(
  servers?: Array<Http2Server | Http2SecureServer>,
  logger?: Logger,
): Promise<{ cs: Carbonscope; ended: OperationFootprint[] }> {
  const cs = await steadyCarbonscope(logger ? { logger } : {});
  const ended: OperationFootprint[] = [];
  cs.onFinish((f) => ended.push(f));
  cs.trackRequests(servers ? { servers } : {});
  return { cs, ended };
}

/** `operation status method scheme`, as the request metrics label each ended request. */
function labels(ended: OperationFootprint[]): string[] {
  return ended.map((f) => `${f.operation} ${f.status} ${f.http?.method} ${f.http?.scheme}`);
}

async function listen(server: Http2Server | Http2SecureServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function until(ok: () => boolean): Promise<void> {
  for (let t = 0; t < 200 && !ok(); t++) await new Promise((r) => setTimeout(r, 5));
}

/** One HTTP/2 request on `session`, its body read; its `:status`, or the reset's code. */
async function h2Request(
  session: ClientHttp2Session,
  path: string,
  method = 'GET',
): Promise<number | string> {
  const req = session.request({ ':path': path, ':method': method }, { endStream: true });
  let status: number | string = 'none';
  req.on('response', (headers) => {
    status = Number(headers[':status']);
  });
  req.on('error', () => {});
  req.resume();
  await once(req, 'close');
  return req.rstCode ? `reset ${req.rstCode}` : status;
}

/** Opens GET `path` on `session` and leaves it open, once its head and first data came. */
async function openStream(session: ClientHttp2Session, path: string): Promise<ClientHttp2Stream> {
  const req = session.request({ ':path': path });
  req.on('error', () => {});
  await Promise.all([once(req, 'response'), once(req, 'data')]);
  return req;
}

/** An HTTP/1.1 GET over TLS (an `allowHTTP1` server): its version and status. */
function h1Request(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(`${res.httpVersion} ${res.statusCode}`));
    }).on('error', reject);
  });
}

/** A self-signed certificate for 127.0.0.1, made by openssl (named when it is missing). */
async function selfSigned(dir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'];
  await openssl([...args, '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1']);
  return { key: await readFile(key), cert: await readFile(cert) };
}

const DURATION_COUNT = `${prometheusName(METRICS.httpDuration)}_count`;

describe('http: HTTP/2 requests are tracked as HTTP/1 ones are', () => {
  it('h2c: compat handlers and core streams, each request counted once with its route', async () => {
    const { cs, ended } = await tracking();
    // The compat API, as frameworks use it; it names its route as a plain node:http one does.
    const compat = createServer((req, res) => {
      if (req.url?.startsWith('/users/')) setRoute(req, '/users/:id');
      if (req.url === '/hang') return;
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('ok');
    });
    // The core API: a `stream` listener and no request objects at all.
    const core = createServer();
    core.on('stream', (stream, headers) => {
      if (headers[':path'] === '/hang') return;
      if (headers[':path'] === '/items/7') setRoute(stream, '/items/:id');
      stream.respond({ ':status': headers[':method'] === 'POST' ? 201 : 204 }, { endStream: true });
    });
    const served: Array<number | string> = [];
    try {
      for (const server of [compat, core]) {
        const session = connect(`http://127.0.0.1:${await listen(server)}`);
        for (const path of ['/users/1', '/users/2', '/missing', '/items/7']) {
          served.push(await h2Request(session, path));
        }
        served.push(await h2Request(session, '/users/3', 'POST'));
        served.push(await h2Request(session, '/x', 'PROPFIND'));
        // The client gives up on a request the server never answers: no status was delivered.
        const hung = session.request({ ':path': '/hang' });
        hung.on('error', () => {});
        await until(() => cs.trackRequests().inFlight > 0);
        hung.close(constants.NGHTTP2_CANCEL);
        await once(hung, 'close');
        served.push('cancelled');
        await until(() => ended.length === served.length);
        session.close();
      }
      expect(served).to.deep.equal([
        ...[200, 200, 404, 200, 200, 200, 'cancelled'],
        ...[204, 204, 204, 204, 201, 204, 'cancelled'],
      ]);
      expect(labels(ended)).to.deep.equal([
        '/users/:id 200 GET http',
        '/users/:id 200 GET http',
        'unmatched 404 GET http',
        'unmatched 200 GET http',
        '/users/:id 200 POST http',
        'unmatched 200 _OTHER http',
        'unmatched undefined GET http',
        'unmatched 204 GET http',
        'unmatched 204 GET http',
        'unmatched 204 GET http',
        '/items/:id 204 GET http',
        'unmatched 201 POST http',
        'unmatched 204 _OTHER http',
        'unmatched undefined GET http',
      ]);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      compat.close();
      core.close();
      await cs.stop();
    }
  });

  it('a connection that goes with requests in flight ends each once, with no status', async () => {
    const { cs, ended } = await tracking();
    const late: Array<() => void> = [];
    const server = createServer((req, res) => {
      setRoute(req, '/slow');
      late.push(() => res.end('late'));
    });
    try {
      const session = connect(`http://127.0.0.1:${await listen(server)}`);
      for (let i = 0; i < 3; i++) session.request({ ':path': '/slow' }).on('error', () => {});
      await until(() => late.length === 3);
      expect(cs.trackRequests().inFlight).to.equal(3);
      session.destroy();
      await until(() => ended.length === 3);
      // The application's answers, to streams that are gone, end nothing twice.
      for (const answer of late) answer();
      await new Promise((r) => setTimeout(r, 20));
      cs.meter.sampleNow();
      expect(labels(ended)).to.deep.equal(Array(3).fill('/slow undefined GET http'));
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  // A Server-Sent Events stream the browser closed ended with no status, so its request counted
  // in the error rate (`_OTHER`), where the same stream over HTTP/1 counts its 200 and no error.
  it('a streamed answer its client leaves after the head keeps its status; one left before keeps none', async () => {
    const metrics = createTestMetrics();
    const { cs, ended } = await withHttpMetrics(metrics);
    cs.trackRequests();
    const tls = { ...(await selfSigned(tempDirUntilExit('carbonscope-h2-'))), allowHTTP1: true };
    const servers = [createServer(), createSecureServer(tls)];
    const event = 'data: tick\n\n';
    // The compat API on each server's `/c/` paths, the core API on its `/s/` ones.
    for (const server of servers) {
      server.on('request', (req, res) => {
        if (req.url !== '/c/events') return;
        setRoute(req, '/c/events');
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event);
        res.write(event);
      });
      server.on('stream', (stream, headers) => {
        if (headers[':path'] !== '/s/events') return;
        setRoute(stream, '/s/events');
        stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
        stream.write(event);
        stream.write(event);
      });
    }
    try {
      for (const server of servers) {
        const secure = server !== servers[0];
        const origin = `${secure ? 'https' : 'http'}://127.0.0.1:${await listen(server)}`;
        for (const api of ['c', 's']) {
          const session = connect(origin, { rejectUnauthorized: false });
          const events = await openStream(session, `/${api}/events`);
          events.close(constants.NGHTTP2_CANCEL);
          await waitFor('the cancelled stream to end', () => ended.length % 3 === 1);
          const silent = session.request({ ':path': `/${api}/silent` });
          silent.on('error', () => {});
          await waitFor('the silent stream', () => cs.trackRequests().inFlight === 1);
          silent.close(constants.NGHTTP2_CANCEL);
          await waitFor('the silent stream to end', () => ended.length % 3 === 2);
          // The browser's tab closed: its whole connection goes, its streams with it.
          await openStream(session, `/${api}/events`);
          session.destroy();
          await waitFor('the stream of the session gone to end', () => ended.length % 3 === 0);
        }
      }
      const expected = (scheme: string) =>
        ['c', 's'].flatMap((api) => [
          `/${api}/events 200 GET ${scheme}`,
          `unmatched undefined GET ${scheme}`,
          `/${api}/events 200 GET ${scheme}`,
        ]);
      expect(labels(ended)).to.deep.equal([...expected('http'), ...expected('https')]);
      cs.meter.sampleNow();
      const counted = parseSamples(await metrics.scrape()).filter((s) => s.name === DURATION_COUNT);
      const seen = counted.map(
        (s) => `${s.labels.http_response_status_code ?? '-'} ${s.labels.error_type ?? '-'}`,
      );
      expect([...new Set(seen)].sort()).to.deep.equal(['- _OTHER', '200 -']);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      for (const server of servers) server.close();
      await cs.stop();
      await metrics.shutdown();
    }
  });

  // A body the server failed to make after its head is cut off with a reset (INTERNAL_ERROR):
  // its client reads no whole 200. It counted 200 and no error.type, as a stream its client
  // cancelled does; it keeps no status, as over HTTP/1.
  it('a streamed answer its server destroys with an error after the head keeps no status', async () => {
    const server = createServer();
    const { cs, ended } = await tracking([server]);
    server.on('request', (req, res) => {
      if (req.url !== '/c/rows') return;
      setRoute(req, '/c/rows');
      res.writeHead(200);
      res.write('a first row\n', () => res.destroy(new Error('the cursor failed')));
    });
    server.on('stream', (stream, headers) => {
      if (headers[':path'] !== '/s/rows') return;
      setRoute(stream, '/s/rows');
      stream.on('error', () => {});
      stream.respond({ ':status': 200 });
      stream.write('a first row\n', () => stream.destroy(new Error('the cursor failed')));
    });
    const session = connect(`http://127.0.0.1:${await listen(server)}`);
    /** The reset code its client read, once its stream closed. */
    const resetOf = async (path: string) => {
      const req = session.request({ ':path': path });
      req.on('error', () => {});
      req.resume();
      await new Promise((closed) => req.once('close', closed));
      return req.rstCode;
    };
    try {
      expect(await resetOf('/c/rows')).to.equal(constants.NGHTTP2_INTERNAL_ERROR);
      expect(await resetOf('/s/rows')).to.equal(constants.NGHTTP2_INTERNAL_ERROR);
      await waitFor('both answers to end', () => ended.length === 2);
      expect(labels(ended)).to.deep.equal([
        '/c/rows undefined GET http',
        '/s/rows undefined GET http',
      ]);
    } finally {
      session.destroy();
      server.close();
      await cs.stop();
    }
  });

  it('a HEAD request ends when it is answered, with its status, though Node ends its body at once', async () => {
    const { cs, ended } = await tracking();
    // Node ends a HEAD stream's writable side as it arrives, long before the answer below.
    const compat = createServer((req, res) => {
      setTimeout(() => {
        setRoute(req, '/h/:id');
        res.statusCode = 202;
        res.end();
      }, 40);
    });
    const core = createServer();
    core.on('stream', (stream) => {
      setTimeout(() => {
        setRoute(stream, '/s/:id');
        stream.respond({ ':status': 203 }, { endStream: true });
      }, 40);
    });
    try {
      const served: Array<number | string> = [];
      for (const server of [compat, core]) {
        const session = connect(`http://127.0.0.1:${await listen(server)}`);
        served.push(await h2Request(session, '/1', 'HEAD'));
        await until(() => ended.length === served.length);
        session.close();
      }
      expect(served).to.deep.equal([202, 203]);
      expect(labels(ended)).to.deep.equal(['/h/:id 202 HEAD http', '/s/:id 203 HEAD http']);
      for (const f of ended) expect(f.durationSeconds).to.be.at.least(0.03);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      compat.close();
      core.close();
      await cs.stop();
    }
  });

  it('a file sent with respondWithFile ends as it is sent: one cancelled after its head, with its status', async () => {
    const { cs, ended } = await tracking();
    const dir = tempDirUntilExit('carbonscope-h2-file-');
    const file = join(dir, 'big.bin');
    await writeFile(file, Buffer.alloc(8 << 20));
    const server = createServer();
    server.on('stream', (stream) => {
      setRoute(stream, '/files/:name');
      stream.respondWithFile(file);
    });
    try {
      const session = connect(`http://127.0.0.1:${await listen(server)}`);
      // Read to the end: the operation lasts until the last byte went.
      expect(await h2Request(session, '/files/big.bin')).to.equal(200);
      // Read a little, then cancel: Node ended the stream's writable side before sending any.
      // Its head went: the status it sent, as a download its HTTP/1 client left has.
      const req = session.request({ ':path': '/files/big.bin' });
      req.on('error', () => {});
      await once(req, 'data');
      req.pause();
      await new Promise((r) => setTimeout(r, 50));
      expect(cs.trackRequests().inFlight).to.equal(1);
      req.close(constants.NGHTTP2_CANCEL);
      await until(() => ended.length === 2);
      session.close();
      expect(labels(ended)).to.deep.equal([
        '/files/:name 200 GET http',
        '/files/:name 200 GET http',
      ]);
      expect(ended[1]?.durationSeconds).to.be.at.least(0.04);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('TLS with allowHTTP1: HTTP/2 and HTTP/1.1 clients of one server, each counted once', async () => {
    const dir = tempDirUntilExit('carbonscope-h2-');
    const server = createSecureServer({ ...(await selfSigned(dir)), allowHTTP1: true });
    server.on('request', (req, res) => {
      setRoute(req, '/v/:version');
      res.end(req.httpVersion);
    });
    const { cs, ended } = await tracking([server]);
    try {
      const port = await listen(server);
      const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const h2 = [await h2Request(session, '/v/2'), await h2Request(session, '/v/2')];
      session.close();
      const h1 = await h1Request(port, '/v/1');
      expect([...h2, h1]).to.deep.equal([200, 200, '1.1 200']);
      await until(() => ended.length >= 3);
      expect(labels(ended)).to.have.members([
        '/v/:version 200 GET https',
        '/v/:version 200 GET https',
        '/v/:version 200 GET https',
      ]);
      expect(ended).to.have.length(3);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('Fastify over HTTP/2 (h2c): the route it matched, its 404 unmatched', async () => {
    const { cs, ended } = await tracking();
    const app = Fastify({ http2: true });
    app.get('/users/:id', async () => ({ ok: true }));
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as AddressInfo).port;
      const session = connect(`http://127.0.0.1:${port}`);
      const served = [await h2Request(session, '/users/1'), await h2Request(session, '/nope')];
      session.close();
      expect(served).to.deep.equal([200, 404]);
      await until(() => ended.length >= 2);
      expect(labels(ended)).to.deep.equal(['/users/:id 200 GET http', 'unmatched 404 GET http']);
    } finally {
      await app.close();
      await cs.stop();
    }
  });

  // Node keeps a stream's compat request under a private symbol (on core-API streams too, as
  // null). Where a Node version drops it, compat routes became `unmatched` without a word.
  it('says once where Node keeps no compat request on its streams; such a stream still counts', async () => {
    const { logger, lines } = memoryLogger();
    const { cs, ended } = await tracking(undefined, logger);
    const server = createServer();
    const bare = () =>
      Object.assign(new EventEmitter(), { sentHeaders: {}, headersSent: false, rstCode: 0 });
    try {
      await listen(server);
      server.emit('stream', bare(), { ':method': 'GET' });
      server.emit('stream', bare(), { ':method': 'GET' });
      expect(cs.trackRequests().inFlight).to.equal(2);
      const said = lines.filter((l) => String(l.msg).includes('compat'));
      expect(said, JSON.stringify(lines)).to.have.length(1);
      expect(said[0]?.msg).to.include('unmatched');
      cs.untrackRequests();
      expect(labels(ended)).to.deep.equal(Array(2).fill('unmatched undefined GET http'));
    } finally {
      server.close();
      await cs.stop();
    }
  });

  // A tunnel is no request: HTTP/1 CONNECTs and upgrades begin no operation (Node publishes no
  // request for them), while an HTTP/2 one (RFC 8441 WebSocket, RFC 7540 CONNECT) was counted
  // as one request for the tunnel's life, its energy split over it.
  it('a CONNECT stream (WebSocket over HTTP/2) begins no operation, as an HTTP/1 upgrade', async () => {
    const { cs, ended } = await tracking();
    const server = createServer({ settings: { enableConnectProtocol: true } });
    server.on('stream', (stream, headers) => {
      if (headers[':method'] !== 'CONNECT') {
        stream.respond({ ':status': 200 }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200 });
      stream.on('data', (chunk) => stream.write(chunk));
      stream.on('end', () => stream.end());
    });
    try {
      const session = connect(`http://127.0.0.1:${await listen(server)}`);
      await once(session, 'remoteSettings');
      const tunnel = session.request(
        { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws', ':scheme': 'http' },
        { endStream: false },
      );
      tunnel.on('error', () => {});
      const [headers] = (await once(tunnel, 'response')) as [Record<string, unknown>];
      tunnel.write('ping');
      await once(tunnel, 'data');
      expect([headers[':status'], cs.trackRequests().inFlight]).to.deep.equal([200, 0]);
      expect(await h2Request(session, '/plain')).to.equal(200);
      tunnel.end();
      await once(tunnel, 'close');
      await until(() => ended.length >= 1);
      await new Promise((r) => setTimeout(r, 20));
      expect(labels(ended)).to.deep.equal(['unmatched 200 GET http']);
      expect(cs.trackRequests().inFlight).to.equal(0);
      session.close();
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('adds nothing to a node:http server: its requests pay nothing for HTTP/2 tracking', async () => {
    const { cs } = await tracking();
    const server = createHttp1Server((_req, res) => res.end('ok'));
    const before = server.eventNames().map((e) => `${String(e)} ${server.listenerCount(e)}`);
    try {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const after = server.eventNames();
      expect(after.map((e) => `${String(e)} ${server.listenerCount(e)}`)).to.deep.equal(before);
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('leaves out an HTTP/2 server it was told to ignore, and stops with the tracking', async () => {
    const { cs, ended } = await tracking();
    const server = createServer((_req, res) => res.end('ok'));
    cs.ignoreServer(server);
    const other = createServer((_req, res) => res.end('ok'));
    try {
      const ignored = connect(`http://127.0.0.1:${await listen(server)}`);
      const counted = connect(`http://127.0.0.1:${await listen(other)}`);
      expect([await h2Request(ignored, '/'), await h2Request(counted, '/')]).to.deep.equal([
        200, 200,
      ]);
      await until(() => ended.length >= 1);
      expect(labels(ended)).to.deep.equal(['unmatched 200 GET http']);
      cs.untrackRequests();
      expect(await h2Request(counted, '/')).to.equal(200);
      await new Promise((r) => setTimeout(r, 20));
      expect(ended).to.have.length(1);
      ignored.close();
      counted.close();
    } finally {
      server.close();
      other.close();
      await cs.stop();
    }
  });
});

describe('http: HTTP/2 servers, as tracking starts and stops and they close', () => {
  const listeners = (server: Http2Server) =>
    server.eventNames().map((e) => `${String(e)} ${server.listenerCount(e)}`);

  it('tracking started again finds the servers an earlier one found listening', async () => {
    const { cs, ended } = await tracking();
    const server = createServer((_req, res) => res.end('ok'));
    try {
      const session = connect(`http://127.0.0.1:${await listen(server)}`);
      expect(await h2Request(session, '/')).to.equal(200);
      cs.untrackRequests();
      cs.trackRequests();
      expect(await h2Request(session, '/')).to.equal(200);
      await until(() => ended.length >= 2);
      expect(labels(ended)).to.deep.equal(Array(2).fill('unmatched 200 GET http'));
      session.close();
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('a server that closes keeps nothing of the tracking, and is found again as it listens', async () => {
    const { cs, ended } = await tracking();
    const server = createServer((_req, res) => res.end('ok'));
    const before = listeners(server);
    try {
      for (let round = 0; round < 2; round++) {
        const session = connect(`http://127.0.0.1:${await listen(server)}`);
        expect(await h2Request(session, '/')).to.equal(200);
        session.close();
        server.close();
        await once(server, 'close');
        expect(listeners(server)).to.deep.equal(before);
      }
      await until(() => ended.length >= 2);
      expect(ended).to.have.length(2);
    } finally {
      await cs.stop();
    }
  });

  // Found only as it listened: one listening before the tracking started (an SDK started after
  // the application's listen) had none of its requests counted, for the process's life.
  it('a server listening before tracking started is tracked from its next connection', async () => {
    for (const secure of [false, true]) {
      const tls = secure ? await selfSigned(tempDirUntilExit('carbonscope-h2-')) : undefined;
      const server = tls ? createSecureServer(tls) : createServer();
      server.on('request', (req, res) => {
        setRoute(req, '/early');
        res.end('ok');
      });
      const url = `${secure ? 'https' : 'http'}://127.0.0.1:${await listen(server)}`;
      const { cs, ended } = await tracking();
      try {
        const session = connect(url, { rejectUnauthorized: false });
        expect(await h2Request(session, '/')).to.equal(200);
        await until(() => ended.length >= 1);
        expect(labels(ended)).to.deep.equal([`/early 200 GET ${secure ? 'https' : 'http'}`]);
        session.close();
      } finally {
        server.close();
        await cs.stop();
      }
    }
  });

  // The READMEs said a session opened before the tracking stayed unseen unless `servers` named
  // its server: the listener is the server's, so once found its every session's streams count.
  it('once found at a new connection, the streams of its earlier sessions count too', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const url = `http://127.0.0.1:${await listen(server)}`;
    const earlier = connect(url);
    expect(await h2Request(earlier, '/')).to.equal(200);
    const { cs, ended } = await tracking();
    let later: ClientHttp2Session | undefined;
    try {
      expect(await h2Request(earlier, '/')).to.equal(200);
      await new Promise((r) => setTimeout(r, 20));
      const beforeFound = ended.length;
      later = connect(url);
      expect(await h2Request(later, '/')).to.equal(200);
      expect(await h2Request(earlier, '/')).to.equal(200);
      await until(() => ended.length >= 2);
      expect([beforeFound, ended.length]).to.deep.equal([0, 2]);
    } finally {
      earlier.close();
      later?.close();
      server.close();
      await cs.stop();
    }
  });

  // Found at a connection, a server is attached as one found at its listen is: the same checks.
  it('at its next connection, a server ignored or left out of `servers` stays untracked', async () => {
    for (const how of ['ignored', 'not in servers'] as const) {
      const server = createServer((_req, res) => res.end('ok'));
      const named = createServer((_req, res) => res.end('ok'));
      const url = `http://127.0.0.1:${await listen(server)}`;
      await listen(named);
      const { cs, ended } = await tracking(how === 'ignored' ? undefined : [named]);
      if (how === 'ignored') cs.ignoreServer(server);
      try {
        const session = connect(url);
        expect(await h2Request(session, '/')).to.equal(200);
        await new Promise((r) => setTimeout(r, 20));
        // One `stream` listener: Node's own, for the (req, res) handler.
        expect([how, ended.length, server.listenerCount('stream')]).to.deep.equal([how, 0, 1]);
        session.close();
      } finally {
        server.close();
        named.close();
        await cs.stop();
      }
    }
  });

  // Its HTTP/1.1 requests come through node:http's channels whether or not it was found: found at
  // a connection, its HTTP/2 ones must not be counted on top, nor the HTTP/1.1 ones twice.
  it('TLS with allowHTTP1, listening before tracking: each protocol counted once', async () => {
    const server = createSecureServer({
      ...(await selfSigned(tempDirUntilExit('carbonscope-h2-'))),
      allowHTTP1: true,
    });
    server.on('request', (req, res) => {
      setRoute(req, '/v/:version');
      res.end(req.httpVersion);
    });
    const port = await listen(server);
    const { cs, ended } = await tracking();
    try {
      const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const h2 = await h2Request(session, '/v/2');
      session.close();
      const h1 = await h1Request(port, '/v/1');
      expect([h2, h1]).to.deep.equal([200, '1.1 200']);
      await until(() => ended.length >= 2);
      await new Promise((r) => setTimeout(r, 20));
      expect(labels(ended)).to.deep.equal(Array(2).fill('/v/:version 200 GET https'));
    } finally {
      server.close();
      await cs.stop();
    }
  });

  it('a listening server named in `servers` is tracked at once, on sessions opened before', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const session = connect(`http://127.0.0.1:${await listen(server)}`);
    expect(await h2Request(session, '/')).to.equal(200);
    const { cs, ended } = await tracking([server]);
    try {
      expect(await h2Request(session, '/')).to.equal(200);
      await until(() => ended.length >= 1);
      expect(labels(ended)).to.deep.equal(['unmatched 200 GET http']);
      session.close();
    } finally {
      server.close();
      await cs.stop();
    }
  });

  // The last stream's server (one comparison a stream) was left set at stop: a server that
  // closed after the tracking stopped, its close no longer watched, was held as long as the
  // stopped tracking was.
  it('lets go of an HTTP/2 server that closes after the tracking stopped', async () => {
    const { cs, ended } = await tracking();
    const requests = cs.trackRequests();
    let server: Http2Server | undefined = createServer((_req, res) => res.end('ok'));
    try {
      const session = connect(`http://127.0.0.1:${await listen(server)}`);
      expect(await h2Request(session, '/')).to.equal(200);
      await until(() => ended.length >= 1);
      session.close();
      await cs.stop();
      server.close();
      await once(server, 'close');
      const held = new WeakRef(server);
      server = undefined;
      expect(await collected(held), 'the closed server').to.equal(true);
      // Still referenced here: what it holds is what a stopped tracking keeps.
      expect(requests.inFlight).to.equal(0);
    } finally {
      server?.close();
    }
  });

  // Node publishes a listen's start as listen() is called, before it can fail: a server held
  // from then was kept for the process's life (an application retrying with new servers).
  it('keeps nothing of an HTTP/2 server whose listen failed', async () => {
    const { cs } = await tracking();
    const busy = createNetServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    let collected = 0;
    const registry = new FinalizationRegistry(() => collected++);
    try {
      for (let i = 0; i < 20; i++) {
        const server = createServer();
        server.on('error', () => {});
        server.listen(port, '127.0.0.1');
        await once(server, 'error');
        registry.register(server, i);
      }
      for (let round = 0; round < 10 && collected < 20; round++) {
        collectGarbage();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(collected).to.be.at.least(19);
    } finally {
      busy.close();
      await cs.stop();
    }
  });
});
