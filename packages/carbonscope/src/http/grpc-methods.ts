import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { GRPC_UNIMPLEMENTED, isGrpc } from './grpc-status.js';

/**
 * The most method paths learned for one operation label (grpcMethodsOf): a server registers a
 * fixed set of methods, but a server that answers any path (a gRPC proxy, an echo) would make the
 * set as large as its clients' input. It bounds the names too: past it, such a server's new paths
 * are not named, or a client's made-up paths would take every name the operation label keeps (512
 * by default), and the application's own routes, named after them, would be `other`. Those
 * servers share it: two catch-all servers, 300 made-up paths each, took the label's 512 names
 * between them; and so do the trackings of the label's life: one restart did the same.
 */
export const MAX_GRPC_METHODS = 256;

/**
 * The longest method path learned from an answer alone: grpc-js's own methods have no bound
 * (their handler tells them), but a path an HTTP/2 server other than grpc-js answered may be one
 * its client made (an echo), each up to the header size limit, kept up to MAX_GRPC_METHODS.
 */
export const MAX_LEARNED_PATH = 256;

/**
 * A method path as protobuf names make it: `/` the service's full name (dot-separated
 * identifiers, its package's first) `/` the method's identifier.
 */
const GRPC_METHOD_PATH =
  /^\/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\/[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `path` has the shape a protobuf service's method path has, within MAX_LEARNED_PATH. */
export function isGrpcMethodPath(path: string): boolean {
  return path.length <= MAX_LEARNED_PATH && GRPC_METHOD_PATH.test(path);
}

/**
 * What a gRPC call's answer says of its method, so far:
 * - `served`: it ended with a status other than UNIMPLEMENTED: the server serves this method;
 * - `answering`: gRPC's response headers went, its status not yet (it comes in the trailers);
 * - `unimplemented`: the server does not serve it;
 * - `none`: nothing sent yet (the call runs, or was reset before any answer);
 * - `other`: an answer that is not gRPC's (a 415 to a non-gRPC content type, a plain 404).
 */
export type GrpcAnswer = 'served' | 'answering' | 'unimplemented' | 'none' | 'other';

/**
 * What the response headers sent so far (a trailers-only response's included) say, and
 * `status`, the call's grpc-status where its trailers sent one (see grpcStatusOf).
 */
export function grpcAnswerOf(sent: OutgoingHttpHeaders | undefined, status?: number): GrpcAnswer {
  if (sent === undefined) return 'none';
  if (!isGrpc(sent)) return 'other';
  const code = status ?? sent['grpc-status'];
  if (code === undefined) return 'answering';
  return Number(code) === GRPC_UNIMPLEMENTED ? 'unimplemented' : 'served';
}

/**
 * The names of @grpc/grpc-js's `stream` listener (`handler.bind(server)`, channelz on or off),
 * which its Server adds to each HTTP/2 server it makes before that server listens.
 */
const GRPC_JS_HANDLERS: ReadonlySet<string> = new Set([
  'bound _streamHandler',
  'bound _channelzHandler',
]);

/**
 * Names gRPC calls (HTTP/2 streams) by their method path, `/pkg.Service/Method`, as the
 * `http.route` of an HTTP request is its template: only a method the server serves, so that a
 * path a client makes up never becomes an operation name. Whether the server registered a
 * method is read from what it did with the call, not from @grpc/grpc-js's handler table, which
 * no public API reaches from the HTTP/2 server: its answer (see GrpcAnswer), or before any
 * answer (the call runs, or its client reset it) whether a handler took its stream, as
 * grpc-js does with each call it serves (it pauses it to read the messages at its pace) and
 * none that it does not (it answers those UNIMPLEMENTED in the same turn). That second sign
 * holds on grpc-js's own servers only (told by their `stream` listener): any other server that
 * reads every request's body would let a client reset a made-up path into a name.
 * A method learned from a server's answer names that server's later calls of it that ended
 * with none: learned on one server, it is a path a client made up on another.
 * Another server is believed on a finished answer only, one with a gRPC status, and for a path of
 * gRPC's shape (isGrpcMethodPath): an echo server or a proxy that copies a request's content type
 * into its answer would otherwise learn each path its clients make up.
 */
export class GrpcMethods {
  private readonly served = new WeakMap<object, Set<string>>();
  private readonly grpcJs = new WeakMap<EventEmitter, boolean>();
  /** The paths learned from servers other than grpc-js's, all of them together, for good. */
  private learnedElsewhere = 0;

  /**
   * The call's method path if `server` (the one whose `stream` event brought it) serves the
   * method, else undefined (for a request that is no gRPC call too).
   */
  nameOf(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    server: EventEmitter,
    status?: number,
  ): string | undefined {
    if (!isGrpc(headers)) return undefined;
    const path = headers[':path'];
    if (typeof path !== 'string') return undefined;
    const answer = grpcAnswerOf(stream.headersSent ? stream.sentHeaders : undefined, status);
    if (answer === 'other' || answer === 'unimplemented') return undefined;
    const grpcJs = this.isGrpcJs(server);
    if (answer === 'served' && grpcJs) {
      // grpc-js answers only the methods registered on it: a name past the bound is one of them.
      this.learn(server, path);
      return path;
    }
    if (answer === 'served' && isGrpcMethodPath(path)) {
      return this.learn(server, path, true) ? path : undefined;
    }
    if (this.served.get(server)?.has(path)) return path;
    return grpcJs && (answer === 'answering' || handlerTook(stream)) ? path : undefined;
  }

  /**
   * Whether `server` serves `path` as now known: false where it was new and the server's set is
   * full, or, `elsewhere` (a server other than grpc-js's), where those servers' are together.
   */
  private learn(server: object, path: string, elsewhere = false): boolean {
    let served = this.served.get(server);
    if (served === undefined) {
      served = new Set();
      this.served.set(server, served);
    }
    if (served.has(path)) return true;
    if (served.size >= MAX_GRPC_METHODS) return false;
    if (elsewhere && this.learnedElsewhere >= MAX_GRPC_METHODS) return false;
    served.add(path);
    if (elsewhere) this.learnedElsewhere++;
    return true;
  }

  /** Read once per server: grpc-js adds its listener before the server listens. */
  private isGrpcJs(server: EventEmitter): boolean {
    let known = this.grpcJs.get(server);
    if (known === undefined) {
      known = server.listeners('stream').some((listener) => GRPC_JS_HANDLERS.has(listener.name));
      this.grpcJs.set(server, known);
    }
    return known;
  }
}

/**
 * The methods learned for `owner` (a tracker: one per Carbonscope, whose operation label the
 * names fill for its life), kept across its request trackings: each began a set of its own, and
 * a stop and restart of request tracking let servers other than grpc-js's name MAX_GRPC_METHODS
 * more made-up paths.
 */
export function grpcMethodsOf(owner: object): GrpcMethods {
  let methods = learnedFor.get(owner);
  if (methods === undefined) {
    methods = new GrpcMethods();
    learnedFor.set(owner, methods);
  }
  return methods;
}
const learnedFor = new WeakMap<object, GrpcMethods>();

/**
 * Whether something read or paused the stream: `readableFlowing` is null until then, and Node
 * leaves it so on a stream nothing read, reset or not.
 */
function handlerTook(stream: ServerHttp2Stream): boolean {
  return stream.readableFlowing !== null;
}
