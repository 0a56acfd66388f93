import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { expect } from 'chai';
import {
  GrpcMethods,
  grpcAnswerOf,
  isGrpcRequest,
  MAX_GRPC_METHODS,
} from '../../../src/http/grpc-methods.js';

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
      expect(isGrpcRequest(call('/a.S/M', type)), type).to.equal(true);
    }
    expect(isGrpcRequest({ ':path': '/a.S/M' })).to.equal(false);
    expect(isGrpcRequest(call('/a.S/M', 'application/json'))).to.equal(false);
  });

  it('reads what an answer says of the method: served, unimplemented, not gRPC, none yet', () => {
    expect(grpcAnswerOf(SENT.metadata)).to.equal('served');
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
    methods.nameOf(stream(SENT.metadata, true), call('/a.S/Get'), other);
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
      methods.nameOf(stream(SENT.metadata), call(`/any/M${i}`), proxy);
    }
    expect(methods.nameOf(stream(), call('/any/M0'), proxy)).to.equal('/any/M0');
    expect(methods.nameOf(stream(), call(`/any/M${MAX_GRPC_METHODS}`), proxy)).to.equal(undefined);
  });
});
