import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type {
  Http2SecureServer,
  Http2Server,
  Http2ServerRequest,
  Http2Session,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import { Server as NetServer } from 'node:net';
import {
  type ActiveOperation,
  close,
  grpcFacts,
  type HttpRequestFacts,
  type OperationAttributes,
  type OperationTracker,
} from '../energy/index.js';
import type { Logger } from '../log.js';
import { type GrpcMethods, grpcMethodsOf } from './grpc-methods.js';
import { awaitsGrpcTrailers, cutShortGrpcStatus, grpcStatusOf, isGrpc } from './grpc-status.js';
import { attributesOfHttp2 } from './request-attributes.js';
import { methodFactsReader } from './request-facts.js';
import { namedHttp2Route, UNMATCHED_ROUTE } from './route.js';

/**
 * Published by every `net.Server` (HTTP/2 ones included) once it listens, on Node 20 and 24
 * alike. Node 20, which the library supports too, publishes nothing per HTTP/2 request
 * (Node 24's `http2.server.stream.*` channels are not there), so an HTTP/2 server is found here,
 * once, and its requests come from its own `stream` event: no cost at all to a `node:http` one.
 * Not `asyncStart`, published as listen() is called: a server whose listen then failed
 * (EADDRINUSE) never closes, and was held for the process's life.
 */
const LISTEN = 'tracing:net.server.listen:asyncEnd';

/**
 * Published by every `net.Server` (TLS ones included) for each connection it accepts, after its
 * `connection` listeners ran and before the connection's first byte is read: an HTTP/2 server
 * that listened before the tracking started is found here, at its next connection, in time for
 * that connection's first stream. One call per connection (not per request) for every server.
 * Sessions opened before the tracking started are not seen until the server is found.
 */
const CONNECTION = 'net.server.socket';

/**
 * The description of the symbol under which Node keeps a stream's compat request: set on every
 * stream as it is made (null on a core-API one), on Node 20 and 24 alike.
 */
const COMPAT_REQUEST = 'request';

/** Said once per tracking where a stream has no such symbol: a Node that keeps it elsewhere. */
const NO_COMPAT_REQUEST = `Node ${process.version} keeps no compat request on an HTTP/2 stream where carbonscope looks for it: the routes that (req, res) handlers and frameworks (Fastify's http2) name on an HTTP/2 request are not seen, and those requests are labelled unmatched; setRoute(req.stream, template) still names one`;

type H2Server = Http2Server | Http2SecureServer;

/** One tracked stream between its headers and its end. */
interface OpenStream {
  readonly op: ActiveOperation;
  readonly stream: ServerHttp2Stream;
  /** Its method and scheme, read as it arrived. */
  readonly facts: HttpRequestFacts;
  /** Node's own object, kept (not read) until the end: a gRPC call is named by its `:path`. */
  readonly headers: IncomingHttpHeaders;
  /** Whose `stream` event brought it: a gRPC method is named where that server serves it. */
  readonly server: H2Server;
  /** When a call with a `grpc-timeout` arrived (performance.now()), to tell its deadline's reset. */
  readonly arrivedMs: number | undefined;
  /** Its session: Node unsets `stream.session` before `close`, which must tell a session gone. */
  readonly session: Http2Session | undefined;
}

type Carrier = ServerHttp2Stream & Record<symbol, unknown>;

export interface Http2Tracking {
  readonly inFlight: number;
  /** Names the streams in flight by their route, if one is known yet. */
  sweep(): void;
  ignore(server: object): void;
  stop(): void;
}

export interface Http2TrackingOptions {
  /** Only these servers' streams, when given (RequestTrackingOptions.servers). */
  servers?: ReadonlySet<object>;
  knownMethods?: readonly string[];
  /** The name each operation is begun with (REQUEST_OPERATION). */
  operation: string;
  /** Where a warning goes; none is said without it. */
  logger?: Logger;
  /**
   * RequestTrackingOptions.captureContext: each stream captures the context active where its
   * answer's headers are sent (see capturingAnswers). A function is asked at the first stream
   * and, while it says no, at each sweep: until then the streams pay one comparison for it.
   */
  captureContext?: boolean | (() => boolean);
  /**
   * Asked at a server's first stream, and again after another server's: where request
   * tracking looks for a framework the application loaded since carbonscope did (Koa, hapi).
   */
  serverServes?: (server: H2Server) => void;
}

/** `node:http2` exports no server class to test against; `updateSettings` is HTTP/2's alone. */
function isHttp2Server(server: unknown): server is H2Server {
  return server instanceof NetServer && typeof Reflect.get(server, 'updateSettings') === 'function';
}

/**
 * The HTTP/2 servers seen to start listening while a tracking was on, until each closes: a
 * tracking started after another stopped finds them, as it finds `node:http` servers.
 */
const listening = new Set<H2Server>();
function forget(this: H2Server) {
  listening.delete(this);
}
function remember(server: H2Server): void {
  if (listening.has(server)) return;
  listening.add(server);
  server.once('close', forget);
}

/** The symbol of the stream's compat request (see COMPAT_REQUEST), where it has one. */
function compatRequestKeyOf(stream: Carrier): symbol | undefined {
  return Object.getOwnPropertySymbols(stream).find((s) => s.description === COMPAT_REQUEST);
}

/**
 * The compat-API request (`(req, res)` handlers, Fastify's `http2: true`) of `stream`, where
 * a framework names the route; undefined for a stream of the core API, or where `key` (Node's
 * symbol, found on the first stream) is null.
 */
function compatRequestOf(stream: Carrier, key: symbol | null): Http2ServerRequest | undefined {
  if (key === null) return undefined;
  const req = stream[key];
  return req !== null && typeof req === 'object' ? (req as Http2ServerRequest) : undefined;
}

/**
 * The route named on the stream's compat request, else on the stream itself (setRoute), else
 * a gRPC call's method where its server serves it.
 */
function streamRoute(
  entry: OpenStream,
  key: symbol | null,
  grpc: GrpcMethods,
  grpcStatus?: number,
): string | undefined {
  const stream = entry.stream as Carrier;
  const req = compatRequestOf(stream, key);
  return (
    (req && namedHttp2Route(req)) ??
    namedHttp2Route(stream) ??
    grpc.nameOf(stream, entry.headers, entry.server, grpcStatus)
  );
}

/** What setAttributes() gave the stream's compat request, or the stream itself. */
function streamAttributes(stream: Carrier, key: symbol | null): OperationAttributes | undefined {
  const req = compatRequestOf(stream, key);
  return (req && attributesOfHttp2(req)) ?? attributesOfHttp2(stream);
}

/**
 * Whether Node is sending the stream a file: respondWithFD (respondWithFile's too) ends its
 * writable side first, nulling `_final` so that ending sends nothing (Node 20 and 24 alike).
 */
function sendsFile(stream: ServerHttp2Stream): boolean {
  return Reflect.get(stream, '_final') === null;
}

/**
 * The `:status` a stream's answer delivered, asked once its head went: a plain answer's whatever
 * came after (a Server-Sent Events stream its client reset, or whose session it destroyed, as an
 * HTTP/1 response whose head went before its connection closed), read at its end: Node refuses a
 * head to a stream already closed. A gRPC answer delivers its status only by ending: none where
 * it was reset (by either side), cut short (`finished` false: its writable side never ended), or
 * closed before its trailers went; its client then fails the call (see cutShortGrpcStatus). A
 * client that destroys its session (or sends GOAWAY) has Node close each of its streams with
 * NO_ERROR: Node marks one whose answer was still open `aborted`, and ends its writable side for
 * it (a `finish` the server never asked for). A plain answer its server destroyed with an error
 * (a body piped from a cursor that threw: Node resets it INTERNAL_ERROR) delivered a cut-off
 * body, no answer: none, as over HTTP/1. Node gives a stream an error for a reset of its client's
 * too, unless NO_ERROR or CANCEL (a browser's): such a client failed, and its answer has none.
 */
function sentStatus(stream: ServerHttp2Stream, finished: boolean): number | undefined {
  const sent = stream.sentHeaders;
  if (isGrpc(sent)) {
    if (!finished || (stream.rstCode !== undefined && stream.rstCode !== 0)) return undefined;
    if (stream.aborted || awaitsGrpcTrailers(stream)) return undefined;
  } else if (stream.errored) {
    return undefined;
  }
  const status = Number(sent[':status']);
  return Number.isInteger(status) ? status : undefined;
}

/** The methods that send a stream's answer headers (respondWithFile calls none of the others). */
const ANSWERS = ['respond', 'respondWithFD', 'respondWithFile'] as const;
type Answer = (typeof ANSWERS)[number];

/**
 * Where the stream's answer begins is the one place every HTTP/2 server runs in the context its
 * answer is made in: a (req, res) handler's writeHead, a core-API handler's respond, grpc-js's
 * first message. No OTel instrumentation wraps an HTTP/2 server's events as the HTTP one wraps
 * `request`, and @opentelemetry/instrumentation-grpc's span is active only inside the method's
 * handler (which ends a unary call's span before grpc-js answers: that one is found ended, and
 * gets nothing). Node sends no event there, so each stream is given its own `respond` (and the
 * file ones), functions shared by all streams that capture and then call the prototype's: the
 * stream's own properties, Node's prototype left as it is.
 */
function capturingAnswers(capture: (stream: Carrier) => void): (stream: ServerHttp2Stream) => void {
  const through = (name: Answer) =>
    function (this: Carrier, ...args: unknown[]) {
      capture(this);
      const own = Reflect.get(Object.getPrototypeOf(this), name) as (...a: unknown[]) => unknown;
      return Reflect.apply(own, this, args);
    };
  const wrapped = ANSWERS.map((name) => [name, through(name)] as const);
  return (stream) => {
    for (const [name, fn] of wrapped) Reflect.set(stream, name, fn);
  };
}

/**
 * Tracks each request (stream) of every HTTP/2 server that listens from now on, that a tracking
 * before this one saw listen, or that accepts a connection from now on, and of those of
 * `options.servers` already listening (their open sessions included), as one operation with the
 * labels an HTTP/1 request gets. Its status is the `:status` it sent where its head went, though
 * its client reset it later (see sentStatus); one the client reset, or whose connection went,
 * before any head ends without one, as an abandoned HTTP/1 request does. A gRPC call's status is
 * delivered only as it ends: one cut short has the gRPC status its reset maps to (see
 * cutShortGrpcStatus).
 * HTTP/1.1 requests of an `allowHTTP1` server come through `node:http`'s channels, not here.
 * A CONNECT stream (a tunnel: WebSocket over HTTP/2) begins no operation. A gRPC call that no
 * setRoute named is named by its method where its server serves it (see GrpcMethods).
 */
export function trackHttp2Streams(
  tracker: OperationTracker,
  options: Http2TrackingOptions,
): Http2Tracking {
  const key = Symbol('carbonscope.http2.stream');
  const open = new Set<OpenStream>();
  const attached = new Set<H2Server>();
  const ignored = new WeakSet<object>();
  const factsOf = methodFactsReader(options.knownMethods);
  // Its tracker's, kept after the stop: a tracking started again learns within the same bound.
  const grpc = grpcMethodsOf(tracker);
  const wantsContext = options.captureContext !== undefined && options.captureContext !== false;
  const contextActive =
    typeof options.captureContext === 'function' ? options.captureContext : () => wantsContext;
  // Whether streams capture their answer's context: asked at the first stream, then each sweep.
  let capturing = false;
  let askedAtStream = !wantsContext;
  const captureAnswer = capturingAnswers((stream) => {
    (stream[key] as OpenStream | undefined)?.op.captureContext();
  });
  // Node's symbol for a stream's compat request: undefined until a stream came, null if none.
  let compatKey: symbol | null | undefined;
  // The last stream's server: one comparison a stream, as node:http's requests pay.
  let lastServer: H2Server | undefined;
  const findCompatKey = (stream: Carrier) => {
    compatKey = compatRequestKeyOf(stream) ?? null;
    if (compatKey === null) options.logger?.warn(NO_COMPAT_REQUEST);
  };

  // `cutShort`: the status a gRPC call's client failed it with, where none was delivered.
  const end = (entry: OpenStream, status?: number, cutShort?: number) => {
    open.delete(entry);
    const stream = entry.stream as Carrier;
    stream[key] = undefined;
    // A delivered answer's gRPC status: only a call's, and a reset one has none.
    const sent = status === undefined ? undefined : grpcStatusOf(stream);
    // Named by the status it sent only: a reset says nothing of whether the server serves it.
    const route = streamRoute(entry, compatKey ?? null, grpc, sent) ?? UNMATCHED_ROUTE;
    const code = sent ?? cutShort;
    const facts = code === undefined ? entry.facts : grpcFacts(entry.facts, code);
    close(entry.op, route, status, facts, streamAttributes(stream, compatKey ?? null));
  };
  // A stream that ends with no status delivered: a gRPC call's is the one its client saw.
  const endAt = (entry: OpenStream, status: number | undefined) => {
    if (status !== undefined) return end(entry, status);
    const elapsed = entry.arrivedMs === undefined ? 0 : performance.now() - entry.arrivedMs;
    const gone = entry.session?.destroyed === true;
    end(entry, undefined, cutShortGrpcStatus(entry.stream, entry.headers, elapsed, gone));
  };
  // Shared by every stream (`this` is the stream): no closure per request. A response is done
  // when its writable side finished after its headers went. Node ends a HEAD stream's writable
  // side as it arrives, before any answer, and a file's (respondWithFile, respondWithFD) before
  // sending it: such a stream ends at its close, with a status if it was not reset. A gRPC
  // answer whose status is still to come ends as its trailers go (grpc-js sends them at the
  // `wantTrailers` after `finish`): not at its close, which waits on the client's side, and which
  // a client's reset after the status would make an abandoned request. Its close is the fallback.
  function onFinish(this: Carrier) {
    const entry = this[key] as OpenStream | undefined;
    if (!entry || !this.headersSent || sendsFile(this)) return;
    // Listened to from now: after the server's own listener, the one that sends the trailers.
    if (awaitsGrpcTrailers(this)) this.on('wantTrailers', onTrailers);
    else endAt(entry, sentStatus(this, true));
  }
  function onTrailers(this: Carrier) {
    const entry = this[key] as OpenStream | undefined;
    if (entry && this.sentTrailers !== undefined) endAt(entry, sentStatus(this, true));
  }
  function onClose(this: Carrier) {
    const entry = this[key] as OpenStream | undefined;
    if (entry) endAt(entry, this.headersSent ? sentStatus(this, this.writableFinished) : undefined);
  }
  // A function, not an arrow: `this` is the server whose `stream` event it is.
  function onStream(this: H2Server, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    if (compatKey === undefined) findCompatKey(stream as Carrier);
    if (this !== lastServer) {
      lastServer = this;
      options.serverServes?.(this);
    }
    const method = headers[':method'];
    // A tunnel (RFC 8441's WebSocket, RFC 7540's CONNECT) is no request, as an HTTP/1 CONNECT or
    // upgrade is none (Node publishes no request for those): counted, it would last the tunnel's
    // life, and take a share of the process's energy for all of it.
    if (method === 'CONNECT') return;
    const entry: OpenStream = {
      op: tracker.begin(options.operation, 'request'),
      stream,
      facts: factsOf(method, stream.session?.encrypted === true),
      headers,
      server: this,
      // One look-up per stream; the clock is read for a call that has a deadline only.
      arrivedMs: headers['grpc-timeout'] === undefined ? undefined : performance.now(),
      session: stream.session,
    };
    open.add(entry);
    (stream as Carrier)[key] = entry;
    // `on`, not `once`: once wraps its listener in a closure; an ended entry is gone anyway.
    stream.on('finish', onFinish);
    stream.on('close', onClose);
    if (!askedAtStream) {
      askedAtStream = true;
      capturing = contextActive();
    }
    if (capturing) captureAnswer(stream);
  }
  // A server that closed is let go (it would be held until stop): found again if it listens.
  function detach(this: H2Server) {
    attached.delete(this);
    if (lastServer === this) lastServer = undefined;
    this.off('stream', onStream);
  }
  const attach = (server: H2Server) => {
    if (attached.has(server) || ignored.has(server)) return;
    if (options.servers && !options.servers.has(server)) return;
    attached.add(server);
    // First, so that the operation is running while the application's handler does its work.
    server.prependListener('stream', onStream);
    server.once('close', detach);
  };
  const onListen = (message: unknown) => {
    const { server } = message as { server?: unknown };
    if (!isHttp2Server(server)) return;
    remember(server);
    attach(server);
  };
  const onConnection = (message: unknown) => {
    const { socket } = message as { socket?: { server?: unknown } };
    const server = socket?.server;
    if (!isHttp2Server(server) || attached.has(server)) return;
    remember(server);
    attach(server);
  };
  subscribe(LISTEN, onListen);
  subscribe(CONNECTION, onConnection);
  for (const server of options.servers ?? listening) {
    if (!isHttp2Server(server)) continue;
    if (server.listening) remember(server);
    attach(server);
  }

  return {
    get inFlight() {
      return open.size;
    },
    sweep() {
      // Not before a first stream: a process with no HTTP/2 server asks nothing.
      if (wantsContext && askedAtStream && !capturing) capturing = contextActive();
      for (const entry of open) {
        const route = streamRoute(entry, compatKey ?? null, grpc);
        if (route !== undefined) entry.op.rename(route);
      }
    },
    ignore(server) {
      ignored.add(server);
      if (isHttp2Server(server) && attached.has(server)) {
        server.off('close', detach);
        detach.call(server);
      }
    },
    stop() {
      unsubscribe(LISTEN, onListen);
      unsubscribe(CONNECTION, onConnection);
      for (const server of attached) {
        server.off('close', detach);
        server.off('stream', onStream);
      }
      attached.clear();
      // Its close no longer watched, a server kept here was held as long as the tracking.
      lastServer = undefined;
      for (const entry of open) end(entry);
    },
  };
}
