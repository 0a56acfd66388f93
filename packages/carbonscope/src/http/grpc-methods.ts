import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';

/**
 * gRPC's UNIMPLEMENTED: what a gRPC server answers for a method it does not serve (the protocol
 * says so; @grpc/grpc-js does it in the same turn as the call's headers arrive, trailers-only).
 */
export const GRPC_UNIMPLEMENTED = 12;

/**
 * The most method paths one tracking learns: a server registers a fixed set of methods, but a
 * server that answers any path (a gRPC proxy) would make the set as large as its clients' input.
 * The operation names are bounded on their own (`other` past 64); this bounds the memory.
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
 * Names gRPC calls (HTTP/2 streams) by their method path, `/pkg.Service/Method`, as the
 * `http.route` of an HTTP request is its template: only a method the server serves, so that a
 * path a client makes up never becomes an operation name. Whether the server registered a
 * method is read from what it did with the call, not from @grpc/grpc-js's handler table, which
 * no public API reaches from the HTTP/2 server: its answer (see GrpcAnswer), or before any
 * answer (the call runs, or its client reset it) whether a handler took its stream, as
 * grpc-js does with each call it serves (it pauses it to read the messages at its pace) and
 * none that it does not (it answers those UNIMPLEMENTED in the same turn). That second sign is
 * read on core-API streams only: a compat request is an HTTP framework's, whose body parser may
 * read a request before any route matched.
 * A method learned from an answer names later calls of it that ended with none, on any server
 * the tracking sees: a process rarely serves one method path from two servers, one not serving it.
 */
export class GrpcMethods {
  private readonly served = new Set<string>();

  /**
   * The call's method path if its server serves the method, else undefined (for a request that
   * is no gRPC call too). `core`: the stream has no compat request.
   */
  nameOf(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    core: boolean,
  ): string | undefined {
    if (!isGrpcRequest(headers)) return undefined;
    const path = headers[':path'];
    if (typeof path !== 'string') return undefined;
    const answer = grpcAnswerOf(stream.headersSent ? stream.sentHeaders : undefined);
    if (answer === 'served') return this.learn(path);
    if (answer !== 'none') return undefined;
    return this.served.has(path) || (core && handlerTook(stream)) ? path : undefined;
  }

  private learn(path: string): string {
    if (this.served.size < MAX_GRPC_METHODS) this.served.add(path);
    return path;
  }
}

/**
 * Whether something read or paused the stream: `readableFlowing` is null until then, and Node
 * leaves it so on a stream nothing read, reset or not.
 */
function handlerTook(stream: ServerHttp2Stream): boolean {
  return stream.readableFlowing !== null;
}
