import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';

/**
 * gRPC's UNIMPLEMENTED: what a gRPC server answers for a method it does not serve (the protocol
 * says so; @grpc/grpc-js does it in the same turn as the call's headers arrive, trailers-only).
 */
export const GRPC_UNIMPLEMENTED = 12;

/**
 * The most method paths one tracking learns: a server registers a fixed set of methods, but a
 * server that answers any path (a gRPC proxy) would make the set as large as its clients' input.
 * The operation names are bounded on their own (`other` past 64); this bounds the memory, per
 * server.
 */
export const MAX_GRPC_METHODS = 256;

/**
 * What a gRPC call's answer says of its method, so far:
 * - `served`: a handler answered (response headers without a status, or a status other than
 *   UNIMPLEMENTED): the server serves this method;
 * - `unimplemented`: the server does not serve it;
 * - `none`: nothing sent yet (the call runs, or was reset before any answer);
 * - `other`: an answer that is not gRPC's (a 415 to a non-gRPC content type, a plain 404).
 */
export type GrpcAnswer = 'served' | 'unimplemented' | 'none' | 'other';

/** A gRPC request, by its content type (`application/grpc`, `+proto`, `+json`, `-web`…). */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

/** What the response headers sent so far (a trailers-only response's included) say. */
export function grpcAnswerOf(sent: OutgoingHttpHeaders | undefined): GrpcAnswer {
  if (sent === undefined) return 'none';
  const type = sent['content-type'];
  if (typeof type !== 'string' || !type.startsWith('application/grpc')) return 'other';
  const status = sent['grpc-status'];
  if (status === undefined) return 'served';
  return Number(status) === GRPC_UNIMPLEMENTED ? 'unimplemented' : 'served';
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
 */
export class GrpcMethods {
  private readonly served = new WeakMap<object, Set<string>>();
  private readonly grpcJs = new WeakMap<EventEmitter, boolean>();

  /**
   * The call's method path if `server` (the one whose `stream` event brought it) serves the
   * method, else undefined (for a request that is no gRPC call too).
   */
  nameOf(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    server: EventEmitter,
  ): string | undefined {
    if (!isGrpcRequest(headers)) return undefined;
    const path = headers[':path'];
    if (typeof path !== 'string') return undefined;
    const answer = grpcAnswerOf(stream.headersSent ? stream.sentHeaders : undefined);
    if (answer === 'served') return this.learn(server, path);
    if (answer !== 'none') return undefined;
    if (this.served.get(server)?.has(path)) return path;
    return handlerTook(stream) && this.isGrpcJs(server) ? path : undefined;
  }

  private learn(server: object, path: string): string {
    let served = this.served.get(server);
    if (served === undefined) {
      served = new Set();
      this.served.set(server, served);
    }
    if (served.size < MAX_GRPC_METHODS) served.add(path);
    return path;
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
 * Whether something read or paused the stream: `readableFlowing` is null until then, and Node
 * leaves it so on a stream nothing read, reset or not.
 */
function handlerTook(stream: ServerHttp2Stream): boolean {
  return stream.readableFlowing !== null;
}
