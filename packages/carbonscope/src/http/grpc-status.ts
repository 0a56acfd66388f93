import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';

/**
 * gRPC's UNIMPLEMENTED: what a gRPC server answers for a method it does not serve (the protocol
 * says so; @grpc/grpc-js does it in the same turn as the call's headers arrive, trailers-only).
 */
export const GRPC_UNIMPLEMENTED = 12;

/**
 * Headers of gRPC's, a call's or its answer's, by their content type (`application/grpc`,
 * `+proto`, `+json`, `-web`…).
 */
export function isGrpc(headers: IncomingHttpHeaders | OutgoingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

/**
 * The names of gRPC's status codes (`rpc.status_code`), by their number: 17 in all.
 */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const GRPC_UNKNOWN = 2;

/**
 * The codes semconv's gRPC server conventions count as the server's failures (`error.type`):
 * the others (NOT_FOUND, INVALID_ARGUMENT…) say the server did its work and the client asked
 * amiss.
 */
export const GRPC_SERVER_ERRORS: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/**
 * A gRPC answer's status: `grpc-status` of its trailers, or of its headers for a trailers-only
 * answer; undefined for an answer that is not gRPC's or sent none (yet). A value that is no code
 * is UNKNOWN, as a gRPC client reads it: 17 values at most.
 */
export function grpcStatusOf(stream: ServerHttp2Stream): number | undefined {
  const sent = stream.sentHeaders;
  if (!isGrpc(sent)) return undefined;
  const code = sent['grpc-status'] ?? stream.sentTrailers?.['grpc-status'];
  if (code === undefined) return undefined;
  const n = Number(code);
  return Number.isInteger(n) && n >= 0 && n < GRPC_STATUS_NAMES.length ? n : GRPC_UNKNOWN;
}

/**
 * Whether the stream's gRPC answer has its status still to send, in trailers: its headers went
 * without one (grpc-js sends them after the stream's `finish`, at its `wantTrailers`).
 */
export function awaitsGrpcTrailers(stream: ServerHttp2Stream): boolean {
  const sent = stream.sentHeaders;
  return isGrpc(sent) && sent['grpc-status'] === undefined && stream.sentTrailers === undefined;
}
