import { once } from 'node:events';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  createServer,
  type ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, connect as netConnect, type Socket } from 'node:net';
import {
  type CallOptions,
  Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceClientConstructor,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import { expect } from 'chai';
import type { OperationFootprint, OperationTracker } from '../../src/energy/index.js';
import { MAX_GRPC_METHODS } from '../../src/http/grpc-methods.js';
import { trackHttp2Streams } from '../../src/http/http2-streams.js';
import { METRICS, prometheusName } from '../../src/metrics/index.js';
import { bindMetrics } from '../../src/otel/binding/bind-metrics.js';
import type { Carbonscope } from '../../src/runtime/carbonscope.js';
import { withHttpMetrics } from '../helpers/http-metrics.js';
import { createTestMetrics, parseSamples } from '../helpers/metrics.js';
import { steadyCarbonscope } from '../unit/energy/scripted.js';

type Raw = Buffer;
const same = (b: Raw) => b;

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  };
}

/** A service with every kind of call; `Later` is in the definition but has no handler. */
const ITEMS = {
  Get: method('/demo.Items/Get', false, false),
  Find: method('/demo.Items/Find', false, false),
  List: method('/demo.Items/List', false, true),
  Slow: method('/demo.Items/Slow', false, true),
  Upload: method('/demo.Items/Upload', true, false),
  Later: method('/demo.Items/Later', false, false),
} satisfies ServiceDefinition;

type ItemsClient = InstanceType<ServiceClientConstructor> &
  Record<string, (...args: unknown[]) => unknown>;

function itemsServer(): Server {
  const server = new Server();
  server.addService(ITEMS, {
    Get: (_call: unknown, done: (e: null, v: Raw) => void) => done(null, Buffer.from('ok')),
    // A failure as a handler gives it: trailers-only, HTTP status 200.
    Find: (_call: unknown, done: (e: { code: number; details: string }) => void) =>
      done({ code: status.NOT_FOUND, details: 'no such item' }),
    List: (call: { write(b: Raw): void; end(): void }) => {
      for (let i = 0; i < 5; i++) call.write(Buffer.from('x'));
      call.end();
    },
    // Answers nothing for a while: a client cancels it before any answer.
    Slow: (call: { cancelled: boolean; end(): void }) => {
      setTimeout(() => call.end(), 2000).unref();
    },
    Upload: (call: NodeJS.EventEmitter, done: (e: null, v: Raw) => void) => {
      let n = 0;
      call.on('data', () => n++);
      call.on('end', () => done(null, Buffer.from(String(n))));
    },
  });
  return server;
}

function bind(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
}

/** `operation status method scheme`, as the request metrics label each ended call. */
function labels(ended: OperationFootprint[]): string[] {
  return ended.map((f) => `${f.operation} ${f.status} ${f.http?.method} ${f.http?.scheme}`);
}

async function until(ok: () => boolean): Promise<void> {
  for (let t = 0; t < 400 && !ok(); t++) await new Promise((r) => setTimeout(r, 5));
}

/** A unary call's outcome: `ok` or its gRPC status code. */
function unary(client: ItemsClient, name: string): Promise<string | number> {
  return new Promise((resolve) => {
    client[name](Buffer.from('a'), (err: { code: number } | null) =>
      resolve(err ? err.code : 'ok'),
    );
  });
}

/** A unary call to a path the client makes up: its gRPC status code. */
function unaryAt(client: Client, path: string): Promise<number | 'ok'> {
  return new Promise((resolve) => {
    const options: CallOptions = {};
    client.makeUnaryRequest(path, same, same, Buffer.from('a'), options, (err) =>
      resolve(err ? (err.code ?? -1) : 'ok'),
    );
  });
}

/** A server-streaming call read to its end, or cancelled after `cancelAfterMs`. */
function serverStream(client: ItemsClient, name: string, cancelAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const call = client[name](Buffer.from('a')) as NodeJS.EventEmitter & { cancel(): void };
    let n = 0;
    call.on('data', () => n++);
    call.on('error', (err: { code: number }) => resolve(`${n} then ${err.code}`));
    call.on('end', () => resolve(`${n}`));
    if (cancelAfterMs !== undefined) setTimeout(() => call.cancel(), cancelAfterMs);
  });
}

function upload(client: ItemsClient): Promise<string> {
  return new Promise((resolve) => {
    const call = client.Upload((err: { code: number } | null, value: Raw) =>
      resolve(err ? `error ${err.code}` : String(value)),
    ) as { write(b: Raw): void; end(): void };
    for (let i = 0; i < 3; i++) call.write(Buffer.from('z'));
    call.end();
  });
}

/** The HTTP/2 tracking alone, its operations saying each name they were given, in order. */
function namedStreams() {
  const names: string[][] = [];
  const tracker = {
    begin: () => {
      const op = ['request'];
      names.push(op);
      return { rename: (name: string) => op.push(name), end: (name: string) => op.push(name) };
    },
  } as unknown as OperationTracker;
  return { names, streams: trackHttp2Streams(tracker, { operation: 'request' }) };
}

/**
 * A gRPC request a client sends to `port` and resets once the server saw it (`seen` resolves):
 * no answer is ever sent.
 */
async function resetCall(port: number, path: string, seen: Promise<unknown>): Promise<void> {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const req = grpcRequest(session, path);
  req.write(Buffer.alloc(5));
  await seen;
  req.close(constants.NGHTTP2_CANCEL);
  await once(req, 'close');
  session.close();
}

describe('http: a gRPC path is never named from a server that is not serving it', () => {
  it('a core-API server that reads every stream: a made-up path reset before its answer', async () => {
    const { names, streams } = namedStreams();
    // Reads each request's body before answering, as most core-API handlers do.
    const server = createServer();
    const taken: ServerHttp2Stream[] = [];
    server.on('stream', (stream) => {
      stream.on('data', () => {});
      stream.on('error', () => {});
      taken.push(stream);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const seen = until(() => taken.length === 1 && taken[0].readableFlowing === true);
      const reset = resetCall(
        port,
        `/made.Up/M${Math.random()}`,
        seen.then(() => streams.sweep()),
      );
      await reset;
      await until(() => names[0]?.length === 2);
      expect(names).to.deep.equal([['request', 'unmatched']]);
    } finally {
      streams.stop();
      server.close();
    }
  });

  it("a method one server serves is not named on another server's unanswered call", async () => {
    const { names, streams } = namedStreams();
    const items = itemsServer();
    const Items = makeGenericClientConstructor(ITEMS, 'Items');
    const client = new Items(`127.0.0.1:${await bind(items)}`, credentials.createInsecure());
    const other = createServer();
    let got = 0;
    other.on('stream', (stream) => {
      stream.on('error', () => {});
      got++;
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      expect(await unary(client as ItemsClient, 'Get')).to.equal('ok');
      const { port } = other.address() as AddressInfo;
      await resetCall(
        port,
        '/demo.Items/Get',
        until(() => got === 1),
      );
      await until(() => names[1]?.length === 2);
      expect(names).to.deep.equal([
        ['request', '/demo.Items/Get'],
        ['request', 'unmatched'],
      ]);
    } finally {
      client.close();
      items.forceShutdown();
      streams.stop();
      other.close();
    }
  });
});

describe('http: gRPC calls of @grpc/grpc-js, over loopback', () => {
  let cs: Carbonscope;
  let server: Server;
  let items: ItemsClient;
  let raw: Client;
  const ended: OperationFootprint[] = [];

  before(async () => {
    cs = await steadyCarbonscope();
    cs.onFinish((f) => ended.push(f));
    cs.trackRequests();
    server = itemsServer();
    const address = `127.0.0.1:${await bind(server)}`;
    const Items = makeGenericClientConstructor(ITEMS, 'Items');
    items = new Items(address, credentials.createInsecure()) as ItemsClient;
    raw = new Client(address, credentials.createInsecure());
  });

  after(async () => {
    items?.close();
    raw?.close();
    server?.forceShutdown();
    await cs?.stop();
  });

  beforeEach(() => {
    ended.length = 0;
  });

  it('names each call by the method the server serves, every kind of call', async () => {
    const outcomes = [
      await unary(items, 'Get'),
      await unary(items, 'Find'),
      await serverStream(items, 'List'),
      await upload(items),
      // Taken by its handler, then cancelled by the client before any answer.
      await serverStream(items, 'Slow', 100),
    ];
    await until(() => ended.length === outcomes.length);
    expect(outcomes).to.deep.equal([
      'ok',
      status.NOT_FOUND,
      '5',
      '3',
      `0 then ${status.CANCELLED}`,
    ]);
    expect(labels(ended)).to.deep.equal([
      '/demo.Items/Get 200 POST http',
      '/demo.Items/Find 200 POST http',
      '/demo.Items/List 200 POST http',
      '/demo.Items/Upload 200 POST http',
      // Reset before any answer: no status was delivered.
      '/demo.Items/Slow undefined POST http',
    ]);
    expect(cs.trackRequests().inFlight).to.equal(0);
  });

  it('names a call while it runs, once its handler took it, at a sweep', async () => {
    const { names, streams } = namedStreams();
    const slow = itemsServer();
    const Items = makeGenericClientConstructor(ITEMS, 'Items');
    const client = new Items(`127.0.0.1:${await bind(slow)}`, credentials.createInsecure());
    try {
      const call = serverStream(client as ItemsClient, 'Slow', 300);
      const made = unaryAt(client, '/made.Up/Running');
      await until(() => names.length === 2);
      await made;
      streams.sweep();
      expect(names).to.deep.equal([
        ['request', '/demo.Items/Slow'],
        ['request', 'unmatched'],
      ]);
      await call;
      await until(() => names[0]?.length === 3);
      expect(names[0]).to.deep.equal(['request', '/demo.Items/Slow', '/demo.Items/Slow']);
    } finally {
      client.close();
      slow.forceShutdown();
      streams.stop();
    }
  });

  it('keeps a method the server does not serve unmatched, a path a client makes up too', async () => {
    const outcomes = [await unary(items, 'Later')];
    for (let i = 0; i < 50; i++)
      outcomes.push(await unaryAt(raw, `/made.Up${i}/M${Math.random()}`));
    await until(() => ended.length === outcomes.length);
    expect(new Set(outcomes)).to.deep.equal(new Set([status.UNIMPLEMENTED]));
    expect(new Set(labels(ended))).to.deep.equal(new Set(['unmatched 200 POST http']));
    expect(ended).to.have.length(51);
  });
});

/** Fails each way a handler does: after its metadata went (status in trailers), or before. */
const FAILING = {
  Late: method('/demo.Failing/Late', false, false),
  Early: method('/demo.Failing/Early', false, false),
  Stream: method('/demo.Failing/Stream', false, true),
  Thrown: method('/demo.Failing/Thrown', false, false),
  Chat: method('/demo.Failing/Chat', true, true),
} satisfies ServiceDefinition;

function failingServer(): Server {
  const server = new Server();
  type Unary = { sendMetadata(m: Metadata): void };
  type Done = (e: { code: number; details: string }) => void;
  server.addService(FAILING, {
    Late: (call: Unary, done: Done) => {
      call.sendMetadata(new Metadata());
      setTimeout(() => done({ code: status.INTERNAL, details: 'late' }), 5);
    },
    Early: (_call: Unary, done: Done) => done({ code: status.UNAVAILABLE, details: 'early' }),
    Stream: (call: { write(b: Raw): void; emit(e: string, err: unknown): void }) => {
      call.write(Buffer.from('x'));
      call.emit('error', { code: status.PERMISSION_DENIED, details: 'no' });
    },
    Thrown: () => {
      throw new Error('handler threw');
    },
    // Fails while its client may still be sending: the client's side stays open past its status.
    Chat: (call: Unary & { write(b: Raw): void; emit(e: string, err: unknown): void }) => {
      call.sendMetadata(new Metadata());
      call.write(Buffer.from('x'));
      setTimeout(() => call.emit('error', { code: status.INTERNAL, details: 'chat' }), 5);
    },
  });
  return server;
}

describe("http: a gRPC call's outcome, its grpc-status, over loopback", () => {
  it('labels the request duration per method with it, a server failure as error.type', async () => {
    const metrics = createTestMetrics();
    const { cs, ended } = await withHttpMetrics(metrics);
    cs.trackRequests();
    const items = itemsServer();
    const failing = failingServer();
    const Items = makeGenericClientConstructor(ITEMS, 'Items');
    const Failing = makeGenericClientConstructor(FAILING, 'Failing');
    const itemsClient = new Items(`127.0.0.1:${await bind(items)}`, credentials.createInsecure());
    const failingClient = new Failing(
      `127.0.0.1:${await bind(failing)}`,
      credentials.createInsecure(),
    );
    try {
      const outcomes = [
        await unary(itemsClient as ItemsClient, 'Get'),
        await unary(itemsClient as ItemsClient, 'Find'),
        await serverStream(itemsClient as ItemsClient, 'List'),
        await unary(failingClient as ItemsClient, 'Late'),
        await unary(failingClient as ItemsClient, 'Early'),
        await serverStream(failingClient as ItemsClient, 'Stream'),
        await unary(failingClient as ItemsClient, 'Thrown'),
        await unary(itemsClient as ItemsClient, 'Later'),
      ];
      expect(outcomes).to.deep.equal([
        'ok',
        status.NOT_FOUND,
        '5',
        status.INTERNAL,
        status.UNAVAILABLE,
        `1 then ${status.PERMISSION_DENIED}`,
        status.UNKNOWN,
        status.UNIMPLEMENTED,
      ]);
      await until(() => ended.length === outcomes.length);
      expect(ended.map((f) => `${f.operation} ${f.status} ${f.http?.grpcStatus}`)).to.deep.equal([
        '/demo.Items/Get 200 0',
        '/demo.Items/Find 200 5',
        '/demo.Items/List 200 0',
        '/demo.Failing/Late 200 13',
        '/demo.Failing/Early 200 14',
        '/demo.Failing/Stream 200 7',
        '/demo.Failing/Thrown 200 2',
        'unmatched 200 12',
      ]);
      const count = `${prometheusName(METRICS.httpDuration)}_count`;
      const series: Record<string, string> = {};
      for (const sample of parseSamples(await metrics.scrape())) {
        if (sample.name !== count) continue;
        const { http_route, http_response_status_code, rpc_status_code, error_type } =
          sample.labels;
        series[http_route] = `${http_response_status_code} ${rpc_status_code} ${error_type ?? '-'}`;
      }
      expect(series).to.deep.equal({
        '/demo.Items/Get': '200 OK -',
        '/demo.Items/Find': '200 NOT_FOUND -',
        '/demo.Items/List': '200 OK -',
        '/demo.Failing/Late': '200 INTERNAL INTERNAL',
        '/demo.Failing/Early': '200 UNAVAILABLE UNAVAILABLE',
        '/demo.Failing/Stream': '200 PERMISSION_DENIED -',
        '/demo.Failing/Thrown': '200 UNKNOWN UNKNOWN',
        unmatched: '200 UNIMPLEMENTED UNIMPLEMENTED',
      });
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      itemsClient.close();
      failingClient.close();
      items.forceShutdown();
      failing.forceShutdown();
      await cs.stop();
      await metrics.shutdown();
    }
  });
});

/** A raw client's bidi call to Chat, its side left open: resolves at the answer's trailers. */
async function chat(port: number) {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const req = grpcRequest(session, '/demo.Failing/Chat', { te: 'trailers' });
  req.write(Buffer.from([0, 0, 0, 0, 1, 97]));
  req.resume();
  const [trailers] = (await once(req, 'trailers')) as [Record<string, string>];
  return { req, session, status: trailers['grpc-status'] };
}

describe('http: a gRPC call ends as its status goes, whatever its client does after', () => {
  it('a client that resets after the trailers, or keeps its side open, changes nothing', async () => {
    const cs = await steadyCarbonscope();
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    cs.trackRequests();
    const failing = failingServer();
    const port = await bind(failing);
    try {
      // Reset once the status came (CANCEL): the answer was whole, its status delivered.
      const reset = await chat(port);
      reset.req.close(constants.NGHTTP2_CANCEL);
      await once(reset.req, 'close');
      reset.session.close();
      await until(() => ended.length === 1);
      // Kept open: the server's work is done at its trailers, as a finish is for another answer.
      const held = await chat(port);
      await until(() => ended.length === 2);
      const inFlight = cs.trackRequests().inFlight;
      held.req.close();
      held.session.close();
      expect([reset.status, held.status]).to.deep.equal(['13', '13']);
      expect(ended.map((f) => `${f.operation} ${f.status} ${f.http?.grpcStatus}`)).to.deep.equal([
        '/demo.Failing/Chat 200 13',
        '/demo.Failing/Chat 200 13',
      ]);
      expect(inFlight).to.equal(0);
    } finally {
      failing.forceShutdown();
      await cs.stop();
    }
  });
});

/**
 * An HTTP/2 echo server: answers each stream with its request's body under the request's own
 * headers (`copy`) or content type alone, as a naive proxy or a test double does.
 */
async function echoServer(copy: 'content-type' | 'all') {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const answer: Record<string, string | number> = { ':status': 200 };
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(':') || typeof value !== 'string') continue;
      if (copy === 'all' || name === 'content-type') answer[name] = value;
    }
    stream.respond(answer);
    stream.pipe(stream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A client's gRPC-looking call to `path`, its headers `extra` besides, read to its end. */
async function echoed(port: number, path: string, extra: Record<string, string> = {}) {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const req = grpcRequest(session, path, extra);
  req.end(Buffer.alloc(5));
  req.resume();
  await new Promise((resolve) => req.on('close', resolve));
  session.close();
}

describe('http: an answer a client shapes teaches no gRPC method', () => {
  it('an echo of the content type names none of the paths a hostile client makes', async () => {
    const { names, streams } = namedStreams();
    const server = await echoServer('content-type');
    const { port } = server.address() as AddressInfo;
    try {
      const paths = [];
      for (let i = 0; i < 20; i++) paths.push(`/evil.S${i}/M${i}`);
      // Each path twice: the second call would be named by what the first one taught.
      for (const path of [...paths, ...paths]) await echoed(port, path);
      await until(() => names.length === 40 && names.every((n) => n.length === 2));
      expect(new Set(names.map((n) => n.join(' ')))).to.deep.equal(new Set(['request unmatched']));
    } finally {
      streams.stop();
      server.close();
    }
  });

  it("an echo of every header, grpc-status too, names paths of gRPC's shape only", async () => {
    const { names, streams } = namedStreams();
    const server = await echoServer('all');
    const { port } = server.address() as AddressInfo;
    try {
      const shaped = '/evil.Svc/Method';
      const shapeless = [
        `/evil.Svc/${'M'.repeat(1000)}`,
        '/evil.Svc/M/../../x',
        '/evil.Svc/M?q=<script>',
        '/evil.Svc/M%20x',
      ];
      for (const path of [shaped, ...shapeless]) await echoed(port, path, { 'grpc-status': '0' });
      await until(() => names.length === 5 && names.every((n) => n.length === 2));
      expect(names.map((n) => n[1])).to.deep.equal([shaped, ...shapeless.map(() => 'unmatched')]);
      expect(MAX_GRPC_METHODS).to.be.at.most(256);
    } finally {
      streams.stop();
      server.close();
    }
  });

  it('an echo that answers every path with a status: MAX_GRPC_METHODS of them named, no more', async () => {
    // Past the bound each new path was named all the same, and a client's made-up paths took
    // the operation label's names from the application's own routes.
    const { names, streams } = namedStreams();
    const server = await echoServer('all');
    const { port } = server.address() as AddressInfo;
    try {
      const paths = Array.from({ length: MAX_GRPC_METHODS + 1 }, (_, i) => `/evil.S/M${i}`);
      const sent = [...paths, paths[0]];
      for (const path of sent) await echoed(port, path, { 'grpc-status': '0' });
      await until(() => names.length === sent.length && names.every((n) => n.length === 2));
      const named = names.map((n) => n[1]);
      expect(named.slice(0, MAX_GRPC_METHODS)).to.deep.equal(paths.slice(0, MAX_GRPC_METHODS));
      // The one past the bound is not named; one learned before it still is.
      expect(named.slice(MAX_GRPC_METHODS)).to.deep.equal(['unmatched', paths[0]]);
    } finally {
      streams.stop();
      server.close();
    }
  });

  it('a request tracking started again names no more of them: MAX_GRPC_METHODS for the label', async () => {
    // Bounded per tracking, a stop and restart of request tracking named MAX_GRPC_METHODS more
    // made-up paths: the label's 512 names filled after one restart.
    const cs = await steadyCarbonscope();
    const ended: string[] = [];
    cs.onFinish((f) => ended.push(f.operation));
    const server = await echoServer('all');
    const { port } = server.address() as AddressInfo;
    const first = Array.from({ length: MAX_GRPC_METHODS }, (_, i) => `/evil.A/M${i}`);
    const fresh = first.map((path) => path.replace('/evil.A/', '/evil.B/'));
    // After the restart, new paths, then one the first tracking learned: named still.
    const second = [...fresh, first[0] ?? ''];
    try {
      for (const paths of [first, second]) {
        cs.trackRequests();
        const before = ended.length;
        for (const path of paths) await echoed(port, path, { 'grpc-status': '0' });
        await until(() => ended.length === before + paths.length);
        cs.untrackRequests();
      }
      expect(ended.slice(0, first.length)).to.deep.equal(first);
      const again = ended.slice(first.length);
      expect(again).to.deep.equal([...fresh.map(() => 'unmatched'), first[0]]);
    } finally {
      server.close();
      await cs.stop();
    }
  });
});

/** A server-streaming method that sends one message and then holds its call open. */
const FEED = { Watch: method('/demo.Feed/Watch', false, true) } satisfies ServiceDefinition;

/**
 * `calls` raw calls to Watch on one session, which the client destroys once each got its first
 * message: Node closes the server's streams with NO_ERROR, their answers cut short.
 */
async function destroyedSession(port: number, calls: number): Promise<void> {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const firsts = [];
  for (let i = 0; i < calls; i++) {
    const req = grpcRequest(session, '/demo.Feed/Watch', { te: 'trailers' });
    req.end(Buffer.from([0, 0, 0, 0, 1, 97]));
    firsts.push(once(req, 'data'));
  }
  await Promise.all(firsts);
  session.destroy();
}

describe("http: a call cut short by its client's session delivered no status", () => {
  it('each stream of a session the client destroys ends without one, or CANCELLED', async () => {
    const cs = await steadyCarbonscope();
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    cs.trackRequests();
    const feed = new Server();
    feed.addService(FEED, {
      Watch: (call: { write(b: Raw): void }) => call.write(Buffer.from('x')),
    });
    const port = await bind(feed);
    try {
      for (let i = 0; i < 4; i++) await destroyedSession(port, 5);
      await until(() => ended.length === 20);
      const outcomes = new Set(
        ended.map((f) => `${f.operation} ${f.status} ${f.http?.grpcStatus}`),
      );
      // Node's client resets its open streams NO_ERROR (no status: a server's own close sends that
      // too) before the session goes; one still open then is CANCELLED, its connection gone.
      const allowed = ['/demo.Feed/Watch undefined undefined', '/demo.Feed/Watch undefined 1'];
      for (const outcome of outcomes) expect(allowed).to.include(outcome);
      expect(ended).to.have.length(20);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      feed.forceShutdown();
      await cs.stop();
    }
  });
});

/** A unary method whose handler answers once the test says so (`release`): never, by default. */
const HELD = { Hold: method('/demo.Held/Hold', false, false) } satisfies ServiceDefinition;

function heldServer() {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = new Server();
  server.addService(HELD, {
    Hold: (_call: unknown, done: (e: null, v: Raw) => void) => {
      released.then(() => done(null, Buffer.from('late')));
    },
  });
  return { server, release };
}

/** A call to Hold: its client's status code; cancelled once the server took it, or by deadline. */
function hold(client: Client, how: { cancelWhen?: () => boolean; deadlineMs?: number }) {
  return new Promise<number | 'ok'>((resolve) => {
    const options: CallOptions =
      how.deadlineMs === undefined ? {} : { deadline: Date.now() + how.deadlineMs };
    const call = client.makeUnaryRequest(
      '/demo.Held/Hold',
      same,
      same,
      Buffer.from('a'),
      options,
      (err) => resolve(err ? (err.code ?? -1) : 'ok'),
    );
    const cancelWhen = how.cancelWhen;
    if (cancelWhen) until(cancelWhen).then(() => call.cancel());
  });
}

describe('http: a gRPC call its client cut short has the status its client saw', () => {
  let metrics: ReturnType<typeof createTestMetrics>;
  let cs: Carbonscope;
  const ended: OperationFootprint[] = [];

  beforeEach(async () => {
    ended.length = 0;
    metrics = createTestMetrics();
    cs = await steadyCarbonscope();
    bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
    cs.onFinish((f) => ended.push(f));
    cs.trackRequests();
  });

  afterEach(async () => {
    await cs.stop();
    await metrics.shutdown();
  });

  /** `status rpc_status_code error.type` of each request duration series, by route. */
  async function series(): Promise<Record<string, string>> {
    const count = `${prometheusName(METRICS.httpDuration)}_count`;
    const found: Record<string, string> = {};
    for (const sample of parseSamples(await metrics.scrape())) {
      if (sample.name !== count) continue;
      const { http_route, http_response_status_code, rpc_status_code, error_type } = sample.labels;
      found[http_route] =
        `${http_response_status_code ?? '-'} ${rpc_status_code ?? '-'} ${error_type ?? '-'}`;
    }
    return found;
  }

  it('a call its client cancels (RST_STREAM CANCEL) is CANCELLED, no failure of the server', async () => {
    const { server } = heldServer();
    const client = new Client(`127.0.0.1:${await bind(server)}`, credentials.createInsecure());
    try {
      const started = cs.trackRequests().inFlight;
      const cancelWhen = () => cs.trackRequests().inFlight > started;
      expect(await hold(client, { cancelWhen })).to.equal(status.CANCELLED);
      await until(() => ended.length === 1);
      // A deadline a minute away, far from passed: the cancel is the client's own still.
      expect(await hold(client, { cancelWhen, deadlineMs: 60_000 })).to.equal(status.CANCELLED);
      await until(() => ended.length === 2);
      expect(ended.map((f) => `${f.operation} ${f.status} ${f.http?.grpcStatus}`)).to.deep.equal([
        '/demo.Held/Hold undefined 1',
        '/demo.Held/Hold undefined 1',
      ]);
      expect(await series()).to.deep.equal({ '/demo.Held/Hold': '- CANCELLED -' });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('a call whose client deadline passed is DEADLINE_EXCEEDED, reset or answered', async () => {
    const { server, release } = heldServer();
    const client = new Client(`127.0.0.1:${await bind(server)}`, credentials.createInsecure());
    try {
      // Connected first: a call whose deadline passes while it connects never reaches the server.
      await new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
      );
      // The client's reset and grpc-js's own deadline answer race: each call is one or other.
      const outcomes = [];
      for (let i = 0; i < 10; i++) outcomes.push(await hold(client, { deadlineMs: 5 }));
      expect(new Set(outcomes)).to.deep.equal(new Set([status.DEADLINE_EXCEEDED]));
      await until(() => ended.length === 10);
      // Answered once the client had failed: too late to change what was counted.
      release();
      expect(new Set(ended.map((f) => `${f.operation} ${f.http?.grpcStatus}`))).to.deep.equal(
        new Set(['/demo.Held/Hold 4']),
      );
      const found = await series();
      expect(Object.keys(found)).to.deep.equal(['/demo.Held/Hold']);
      expect(found['/demo.Held/Hold']).to.match(/^(-|200) DEADLINE_EXCEEDED DEADLINE_EXCEEDED$/);
      expect(cs.trackRequests().inFlight).to.equal(0);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  /** A raw HTTP/2 server whose every stream `cut` ends, 20 ms after it arrived, with no status. */
  async function cuttingServer(cut: (stream: ServerHttp2Stream) => void) {
    const server = createServer();
    server.on('stream', (stream: ServerHttp2Stream) => {
      stream.on('error', () => {});
      setTimeout(() => cut(stream), 20);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port };
  }

  it('a call its server closes or destroys (NO_ERROR) is no cancel of its client: no status', async () => {
    for (const cut of [
      (s: ServerHttp2Stream) => s.close(),
      (s: ServerHttp2Stream) => s.destroy(),
    ]) {
      ended.length = 0;
      const { server, port } = await cuttingServer(cut);
      const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
      try {
        // Its client saw INTERNAL; Node's client destroying its session resets with the same code.
        expect(await hold(client, {})).to.equal(status.INTERNAL);
        await until(() => ended.length === 1);
        expect(ended.map((f) => `${f.status} ${f.http?.grpcStatus}`)).to.deep.equal([
          'undefined undefined',
        ]);
      } finally {
        client.close();
        server.close();
      }
    }
    expect(await series()).to.deep.equal({ unmatched: '- - _OTHER' });
  });

  it("a call whose client's connection broke (TCP reset) is CANCELLED, no failure of the server", async () => {
    const { server, port } = await cuttingServer(() => {});
    let socket: Socket | undefined;
    const session = connect(`http://127.0.0.1:${port}`, {
      createConnection: () => {
        socket = netConnect(port, '127.0.0.1');
        return socket;
      },
    });
    session.on('error', () => {});
    try {
      grpcRequest(session, '/demo.Held/Hold');
      await until(() => cs.trackRequests().inFlight === 1);
      socket?.resetAndDestroy();
      await until(() => ended.length === 1);
      expect(ended.map((f) => `${f.status} ${f.http?.grpcStatus}`)).to.deep.equal(['undefined 1']);
      expect(await series()).to.deep.equal({ unmatched: '- CANCELLED -' });
    } finally {
      session.destroy();
      server.close();
    }
  });

  it('a plain HTTP/2 request reset by its client keeps no status, and no gRPC one', async () => {
    const server = createServer();
    server.on('stream', (stream: ServerHttp2Stream) => stream.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    try {
      const req = session.request({ ':method': 'POST', ':path': '/plain', 'grpc-timeout': '1n' });
      req.on('error', () => {});
      await until(() => cs.trackRequests().inFlight === 1);
      req.close(constants.NGHTTP2_CANCEL);
      await until(() => ended.length === 1);
      expect(ended.map((f) => `${f.status} ${f.http?.grpcStatus}`)).to.deep.equal([
        'undefined undefined',
      ]);
      expect(Object.values(await series())).to.deep.equal(['- - _OTHER']);
    } finally {
      session.destroy();
      server.close();
    }
  });
});

/** A raw gRPC request on `session` (errors swallowed: the tests read what the server counted). */
function grpcRequest(
  session: ClientHttp2Session,
  path: string,
  extra: Record<string, string> = {},
): ClientHttp2Stream {
  const req = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    ...extra,
  });
  req.on('error', () => {});
  return req;
}

/** A server answering each call with no message and the grpc-status `values[n]`, n its path's. */
async function statusServer(values: readonly (string | string[])[]) {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const value = values[Number(String(headers[':path']).split('/M').pop())];
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': value }));
    stream.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** A server-streaming call to `path`: the status code its grpc-js client ends it with. */
function streamStatus(client: Client, path: string): Promise<number> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(path, same, same, Buffer.alloc(0));
    call.on('data', () => {});
    call.on('error', () => {});
    call.on('status', (s: { code: number }) => resolve(s.code));
  });
}

describe("http: a call's grpc-status is the one its grpc-js client reads", () => {
  it('an empty one is OK, one padded with a space or a tab (never sent) UNKNOWN', async () => {
    const cs = await steadyCarbonscope();
    const ended: OperationFootprint[] = [];
    cs.onFinish((f) => ended.push(f));
    cs.trackRequests();
    // nghttp2 drops a field whose value begins or ends with a space or a tab (RFC 9113 8.2.1);
    // Node's client joins several values (`5, 6`); grpc-js reads the status with Number().
    const values = ['', '5', ' ', ' 5', '5 ', '\t5', 'x', '17', ['5', '6'], [' 5', '6']];
    const { server, port } = await statusServer(values);
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      const seen: string[] = [];
      for (const [n, value] of values.entries()) {
        const code = await streamStatus(client, `/demo.Status/M${n}`);
        // Bounded as carbonscope labels it: a code outside gRPC's 17 is UNKNOWN.
        const bounded = Number.isInteger(code) && code >= 0 && code < 17 ? code : status.UNKNOWN;
        await until(() => ended.length === n + 1);
        seen.push(`${JSON.stringify(value)} ${bounded} ${ended[n]?.http?.grpcStatus}`);
      }
      expect(seen).to.deep.equal([
        '"" 0 0',
        '"5" 5 5',
        '" " 2 2',
        '" 5" 2 2',
        '"5 " 2 2',
        '"\\t5" 2 2',
        '"x" 2 2',
        '"17" 2 2',
        '["5","6"] 2 2',
        '[" 5","6"] 6 6',
      ]);
    } finally {
      client.close();
      server.close();
      await cs.stop();
    }
  });
});
