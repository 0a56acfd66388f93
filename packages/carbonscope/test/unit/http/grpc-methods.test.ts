import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { expect } from 'chai';
import {
  GrpcMethods,
  grpcAnswerOf,
  grpcMethodsOf,
  isGrpcMethodPath,
  MAX_GRPC_METHODS,
  MAX_LEARNED_PATH,
} from '../../../src/http/grpc-methods.js';
import {
  awaitsGrpcTrailers,
  cutShortGrpcStatus,
  grpcStatusOf,
  grpcTimeoutMs,
  isGrpc,
} from '../../../src/http/grpc-status.js';

/** What @grpc/grpc-js sent, as a stream's `sentHeaders` held it (seen on 1.14). */
const SENT = {
  metadata: {
    ':status': 200,
    'content-type': 'application/grpc+proto',
    'grpc-encoding': 'identity',
  },
  notFound: { 'grpc-status': 5, ':status': 200, 'content-type': 'application/grpc+proto' },
  unimplemented: { 'grpc-status': 12, ':status': 200, 'content-type': 'application/grpc+proto' },
  // To a request whose content type is not gRPC's.
  unsupported: { ':status': 415 },
} satisfies Record<string, OutgoingHttpHeaders>;

function call(path: string, type = 'application/grpc'): IncomingHttpHeaders {
  return { ':method': 'POST', ':path': path, 'content-type': type };
}

/** A stream that sent `sent` (nothing when undefined), read or paused by a handler or not. */
function stream(sent?: OutgoingHttpHeaders, taken = false): ServerHttp2Stream {
  return {
    headersSent: sent !== undefined,
    sentHeaders: sent,
    readableFlowing: taken ? false : null,
  } as unknown as ServerHttp2Stream;
}

/** An HTTP/2 server as @grpc/grpc-js sets one up: its bound stream handler listens. */
function grpcJsServer(): EventEmitter {
  const server = new EventEmitter();
  const handlers = { _streamHandler() {} };
  server.on('stream', handlers._streamHandler.bind(handlers));
  return server;
}

/** Any other HTTP/2 server: its handler reads every stream it is given. */
function otherServer(): EventEmitter {
  const server = new EventEmitter();
  server.on('stream', function readAll() {});
  return server;
}

describe('http: gRPC calls are named by the method their server serves', () => {
  it('tells a gRPC call by its content type', () => {
    for (const type of ['application/grpc', 'application/grpc+proto', 'application/grpc-web']) {
      expect(isGrpc(call('/a.S/M', type)), type).to.equal(true);
    }
    expect(isGrpc({ ':path': '/a.S/M' })).to.equal(false);
    expect(isGrpc(call('/a.S/M', 'application/json'))).to.equal(false);
  });

  it('reads what an answer says of the method: served, unimplemented, not gRPC, none yet', () => {
    // Its status comes in the trailers: the method is served only once it came.
    expect(grpcAnswerOf(SENT.metadata)).to.equal('answering');
    expect(grpcAnswerOf(SENT.metadata, 0)).to.equal('served');
    expect(grpcAnswerOf(SENT.metadata, 13)).to.equal('served');
    expect(grpcAnswerOf(SENT.metadata, 12)).to.equal('unimplemented');
    expect(grpcAnswerOf(SENT.notFound)).to.equal('served');
    expect(grpcAnswerOf({ ...SENT.notFound, 'grpc-status': '0' })).to.equal('served');
    expect(grpcAnswerOf(SENT.unimplemented)).to.equal('unimplemented');
    expect(grpcAnswerOf({ ...SENT.unimplemented, 'grpc-status': '12' })).to.equal('unimplemented');
    expect(grpcAnswerOf(SENT.unsupported)).to.equal('other');
    expect(grpcAnswerOf(undefined)).to.equal('none');
  });

  it('names a call its server answered, never one it does not serve or that is no gRPC', () => {
    const methods = new GrpcMethods();
    const grpc = grpcJsServer();
    expect(methods.nameOf(stream(SENT.metadata, true), call('/a.S/Get'), grpc)).to.equal(
      '/a.S/Get',
    );
    expect(methods.nameOf(stream(SENT.notFound, true), call('/a.S/Find'), grpc)).to.equal(
      '/a.S/Find',
    );
    expect(methods.nameOf(stream(SENT.unimplemented), call('/made/up'), grpc)).to.equal(undefined);
    expect(methods.nameOf(stream(SENT.unsupported), call('/a.S/Get', 'text/plain'), grpc)).to.equal(
      undefined,
    );
    // A plain HTTP/2 request with a 200 is no call of a method.
    expect(methods.nameOf(stream(SENT.metadata, true), { ':path': '/a.S/Get' }, grpc)).to.equal(
      undefined,
    );
  });

  it('names a call with no answer yet only if a grpc-js handler took it or the server answered it before', () => {
    const methods = new GrpcMethods();
    const grpc = grpcJsServer();
    const other = otherServer();
    // No handler took it (what grpc-js does with a path it has no handler for).
    expect(methods.nameOf(stream(), call('/a.S/Watch'), grpc)).to.equal(undefined);
    // A grpc-js handler took it; any other server's handler may read every path it is sent.
    expect(methods.nameOf(stream(undefined, true), call('/a.S/Watch'), grpc)).to.equal(
      '/a.S/Watch',
    );
    expect(methods.nameOf(stream(undefined, true), call('/made/up'), other)).to.equal(undefined);
    // Learned from an answer, a later call reset before any answer is named, on that server only.
    methods.nameOf(stream(SENT.metadata, true), call('/a.S/Get'), other, 0);
    expect(methods.nameOf(stream(), call('/a.S/Get'), other)).to.equal('/a.S/Get');
    expect(methods.nameOf(stream(), call('/a.S/Get'), grpcJsServer())).to.equal(undefined);
    // An UNIMPLEMENTED answer says its method is not served, learned or not.
    expect(methods.nameOf(stream(SENT.unimplemented, true), call('/a.S/Get'), other)).to.equal(
      undefined,
    );
  });

  it('learns at most MAX_GRPC_METHODS methods: a server that answers any path grows nothing', () => {
    const methods = new GrpcMethods();
    const proxy = otherServer();
    for (let i = 0; i <= MAX_GRPC_METHODS; i++) {
      methods.nameOf(stream(SENT.metadata), call(`/any.S/M${i}`), proxy, 0);
    }
    expect(methods.nameOf(stream(), call('/any.S/M0'), proxy)).to.equal('/any.S/M0');
    expect(methods.nameOf(stream(), call(`/any.S/M${MAX_GRPC_METHODS}`), proxy)).to.equal(
      undefined,
    );
  });

  it("names no new path past MAX_GRPC_METHODS on another server, answered or not: the label's names are not a client's to fill", () => {
    // An echo that answers every path with a status: each path a client makes up is a finished
    // answer. Past the bound, naming them by their path filled the operation label's 512 names
    // (600 made up: 511 named, and the application's own routes named later were `other`).
    const methods = new GrpcMethods();
    const echo = otherServer();
    for (let i = 0; i < MAX_GRPC_METHODS; i++) {
      expect(methods.nameOf(stream(SENT.notFound), call(`/any.S/M${i}`), echo)).to.equal(
        `/any.S/M${i}`,
      );
    }
    const next = `/any.S/M${MAX_GRPC_METHODS}`;
    expect(methods.nameOf(stream(SENT.notFound), call(next), echo)).to.equal(undefined);
    expect(methods.nameOf(stream(SENT.notFound), call('/any.S/M0'), echo)).to.equal('/any.S/M0');
    // grpc-js answers only the methods registered on it: each is named, past the bound too.
    const grpcJs = grpcJsServer();
    for (let i = 0; i <= MAX_GRPC_METHODS; i++) {
      methods.nameOf(stream(SENT.notFound), call(`/any.S/M${i}`), grpcJs);
    }
    expect(methods.nameOf(stream(SENT.notFound), call(next), grpcJs)).to.equal(next);
  });

  it('names MAX_GRPC_METHODS new paths of other servers in all, however many answer any path', () => {
    // Bounded per server, two catch-all servers named 512 made-up paths between them: the
    // operation label's every name, the application's own routes `other`.
    const methods = new GrpcMethods();
    const echoes = [otherServer(), otherServer()];
    const named: Array<string | undefined> = [];
    for (let i = 0; i < MAX_GRPC_METHODS; i++) {
      for (const [n, echo] of echoes.entries()) {
        named.push(methods.nameOf(stream(SENT.notFound), call(`/any${n}.S/M${i}`), echo));
      }
    }
    expect(named.filter((name) => name !== undefined)).to.have.length(MAX_GRPC_METHODS);
    // What each learned keeps its name, on that server, answered or not.
    expect(methods.nameOf(stream(SENT.notFound), call('/any1.S/M0'), echoes[1])).to.equal(
      '/any1.S/M0',
    );
    expect(methods.nameOf(stream(), call('/any1.S/M0'), echoes[1])).to.equal('/any1.S/M0');
    // grpc-js's servers take none of them: each names its own methods.
    expect(methods.nameOf(stream(SENT.notFound), call('/a.S/Get'), grpcJsServer())).to.equal(
      '/a.S/Get',
    );
  });

  // The bound is one operation label's, and each Carbonscope has its own (its tracker): one whose
  // catch-all server filled it leaves another's as empty as it was.
  it('keeps the methods learned per owner: one for its trackings, none shared with another', () => {
    const [one, other] = [{}, {}];
    expect(grpcMethodsOf(one)).to.equal(grpcMethodsOf(one));
    const echo = otherServer();
    for (let i = 0; i < MAX_GRPC_METHODS; i++) {
      grpcMethodsOf(one).nameOf(stream(SENT.notFound), call(`/any.S/M${i}`), echo);
    }
    const next = call(`/any.S/M${MAX_GRPC_METHODS}`);
    expect(grpcMethodsOf(one).nameOf(stream(SENT.notFound), next, echo)).to.equal(undefined);
    expect(grpcMethodsOf(other).nameOf(stream(SENT.notFound), next, echo)).to.equal(
      `/any.S/M${MAX_GRPC_METHODS}`,
    );
  });

  it("learns from another server's answer only a finished one, for a path of gRPC's shape", () => {
    const methods = new GrpcMethods();
    const echo = otherServer();
    // An echo of the request's content type: gRPC's headers, and never a status.
    expect(methods.nameOf(stream(SENT.metadata), call('/a.S/Echoed'), echo)).to.equal(undefined);
    expect(methods.nameOf(stream(), call('/a.S/Echoed'), echo)).to.equal(undefined);
    const shapeless = [
      '/a.S/M/extra',
      '/a.S',
      '/a..S/M',
      '/1a.S/M',
      '/a.S/M-1',
      '/a.S/M?x=1',
      '/a S/M',
      `/a.S/${'M'.repeat(MAX_LEARNED_PATH)}`,
    ];
    for (const path of shapeless) {
      expect(methods.nameOf(stream(SENT.notFound), call(path), echo), path).to.equal(undefined);
    }
    expect(methods.nameOf(stream(SENT.notFound), call('/pkg.v1.S_2/Get_1'), echo)).to.equal(
      '/pkg.v1.S_2/Get_1',
    );
    // grpc-js's own answers name any path its handler serves: its methods are registered.
    const path = '/not-a-proto name';
    expect(methods.nameOf(stream(SENT.notFound, true), call(path), grpcJsServer())).to.equal(path);
    expect(isGrpcMethodPath('/_a._b/_c')).to.equal(true);
  });

  it("reads a call's status from its trailers or a trailers-only answer, else UNKNOWN", () => {
    const at = (sent: OutgoingHttpHeaders, trailers?: OutgoingHttpHeaders) =>
      ({ sentHeaders: sent, sentTrailers: trailers }) as unknown as ServerHttp2Stream;
    expect(grpcStatusOf(at(SENT.notFound))).to.equal(5);
    expect(grpcStatusOf(at(SENT.metadata, { 'grpc-status': 13 }))).to.equal(13);
    expect(grpcStatusOf(at(SENT.metadata, { 'grpc-status': '0' }))).to.equal(0);
    expect(grpcStatusOf(at(SENT.metadata))).to.equal(undefined);
    for (const code of ['17', '-1', 'x', '1.5', 99]) {
      expect(grpcStatusOf(at(SENT.metadata, { 'grpc-status': code })), String(code)).to.equal(2);
    }
    expect(grpcStatusOf(at({ ':status': 200, 'grpc-status': 5 }))).to.equal(undefined);
    expect(awaitsGrpcTrailers(at(SENT.metadata))).to.equal(true);
    expect(awaitsGrpcTrailers(at(SENT.metadata, { 'grpc-status': 0 }))).to.equal(false);
    expect(awaitsGrpcTrailers(at(SENT.notFound))).to.equal(false);
    expect(awaitsGrpcTrailers(at({ ':status': 200 }))).to.equal(false);
  });
});

describe('http: grpcTimeoutMs reads a grpc-timeout as the protocol writes it, and no other', () => {
  it('1 to 8 digits and a unit: anything else is no timeout', () => {
    expect(grpcTimeoutMs('5m')).to.equal(5);
    expect(grpcTimeoutMs('1S')).to.equal(1000);
    expect(grpcTimeoutMs('2M')).to.equal(120_000);
    expect(grpcTimeoutMs('99999999H')).to.equal(99_999_999 * 3_600_000);
    expect(grpcTimeoutMs('1500u')).to.equal(1.5);
    expect(grpcTimeoutMs('3000000n')).to.equal(3);
    for (const bad of ['123456789m', '1 S', '1s', 'm', '', '-1m', '1.5S', '1mm', '0x1S', ' 1S']) {
      expect(grpcTimeoutMs(bad), bad).to.equal(undefined);
    }
    expect(grpcTimeoutMs(['1S'])).to.equal(undefined);
    expect(grpcTimeoutMs(`${'9'.repeat(100_000)}S`)).to.equal(undefined);
  });
});

describe('http: a gRPC call its client cancelled near its deadline', () => {
  const cancelled = { rstCode: 8, headersSent: false } as unknown as ServerHttp2Stream;
  const call = (timeout: string): IncomingHttpHeaders => ({
    'content-type': 'application/grpc',
    'grpc-timeout': timeout,
  });

  // The slack stands for the call's transit and wait, which do not grow with its timeout: a
  // tenth of a 60 s deadline made a user's cancel at 54 s the deadline's (a server failure).
  it("is the deadline's within a slack of a second at most, a cancel before it", () => {
    expect(cutShortGrpcStatus(cancelled, call('60S'), 54_000, false)).to.equal(1);
    expect(cutShortGrpcStatus(cancelled, call('60S'), 59_500, false)).to.equal(4);
    expect(cutShortGrpcStatus(cancelled, call('100m'), 85, false)).to.equal(1);
    expect(cutShortGrpcStatus(cancelled, call('100m'), 95, false)).to.equal(4);
    expect(cutShortGrpcStatus(cancelled, call('5m'), 0, false)).to.equal(4);
  });
});
