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

const GRPC_CANCELLED = 1;
const GRPC_UNKNOWN = 2;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_INTERNAL = 13;

/**
 * The codes semconv's gRPC server conventions count as the server's failures (`error.type`):
 * the others (NOT_FOUND, INVALID_ARGUMENT…) say the server did its work and the client asked
 * amiss.
 */
export const GRPC_SERVER_ERRORS: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/**
 * A gRPC answer's status as its client reads it: `grpc-status` of its trailers, or of its
 * headers for a trailers-only answer; undefined for an answer that is not gRPC's or sent none
 * (yet). A value that is no code is UNKNOWN, as a gRPC client reads it: 17 values at most. As
 * @grpc/grpc-js 1.14 reads it, an empty value is OK (Number('') is 0), while one that begins or
 * ends with a space or a tab never reaches the client (nghttp2 drops the field, RFC 9113 8.2.1):
 * its call ends UNKNOWN there, and was read here as the code within (`' 5'` NOT_FOUND, `' '` OK).
 */
export function grpcStatusOf(stream: ServerHttp2Stream): number | undefined {
  const sent = stream.sentHeaders;
  if (!isGrpc(sent)) return undefined;
  const inHeaders = sent['grpc-status'];
  const inTrailers = stream.sentTrailers?.['grpc-status'];
  if (inHeaders === undefined && inTrailers === undefined) return undefined;
  const code = onTheWire(inHeaders) ?? onTheWire(inTrailers);
  if (code === undefined) return GRPC_UNKNOWN;
  const n = Number(code);
  return Number.isInteger(n) && n >= 0 && n < GRPC_STATUS_NAMES.length ? n : GRPC_UNKNOWN;
}

/**
 * A field's value as its client gets it: none where nghttp2 drops it, and several values (an
 * array) as Node's client joins them (`5, 6`, no code) of those not dropped.
 */
function onTheWire(value: OutgoingHttpHeaders[string]): string | number | undefined {
  if (!Array.isArray(value)) return typeof value === 'string' && dropped(value) ? undefined : value;
  const kept = value.filter((v) => !dropped(v));
  return kept.length === 0 ? undefined : kept.join(', ');
}

/** What RFC 9113 (8.2.1) makes a malformed field value, that nghttp2 leaves out of the frame. */
function dropped(value: string): boolean {
  if (value === '') return false;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first === SPACE || first === TAB || last === SPACE || last === TAB;
}

const SPACE = 0x20;
const TAB = 0x09;

/**
 * Whether the stream's gRPC answer has its status still to send, in trailers: its headers went
 * without one (grpc-js sends them after the stream's `finish`, at its `wantTrailers`).
 */
export function awaitsGrpcTrailers(stream: ServerHttp2Stream): boolean {
  const sent = stream.sentHeaders;
  return isGrpc(sent) && sent['grpc-status'] === undefined && stream.sentTrailers === undefined;
}

/**
 * gRPC's HTTP/2 mapping of a RST_STREAM's code to the status its client then fails the call with,
 * by the code (PROTOCOL-HTTP2.md, "Errors"): CANCEL(8) is CANCELLED, REFUSED_STREAM UNAVAILABLE,
 * ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED, INADEQUATE_SECURITY PERMISSION_DENIED, STREAM_CLOSED none,
 * the others INTERNAL. Node keeps no record of which side reset, and NO_ERROR(0), INTERNAL to the
 * document, is both what a server's own `stream.close()` or `destroy()` sends (its client fails
 * the call INTERNAL) and what Node's client resets each open stream with as it destroys its
 * session (a client gone): none, as a stream with no status has (`error.type` `_OTHER`).
 */
const RESET_STATUS: readonly (number | undefined)[] = [
  undefined,
  GRPC_INTERNAL,
  GRPC_INTERNAL,
  GRPC_INTERNAL,
  GRPC_INTERNAL,
  undefined,
  GRPC_INTERNAL,
  14, // UNAVAILABLE
  GRPC_CANCELLED,
  GRPC_INTERNAL,
  GRPC_INTERNAL,
  8, // RESOURCE_EXHAUSTED
  7, // PERMISSION_DENIED
];

/** A `grpc-timeout` as the protocol writes it: 1 to 8 digits, then its unit. */
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/** The call's timeout in ms, where its header has the protocol's form; undefined otherwise. */
export function grpcTimeoutMs(header: unknown): number | undefined {
  if (typeof header !== 'string' || header.length > 9) return undefined;
  const match = GRPC_TIMEOUT.exec(header);
  return match ? Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] as string] as number) : undefined;
}

/**
 * How much earlier than its timeout a reset still counts as the deadline's: the client counts
 * its deadline from before it sent the call, rounds the header up to its unit (grpc-js: 1 ms),
 * and the server counts from the call's arrival, which comes later by however long the call
 * waited on the connection and in the server's event loop (2.5 ms seen on an idle loopback, more
 * on a busy process). A tenth of the timeout, 10 ms at least and 1 s at most: a cancellation that
 * close to its deadline would have been the deadline's a moment later, and the wait does not grow
 * with the timeout (a tenth of 60 s made a cancel at 54 s the deadline's, a server failure).
 */
function deadlineSlackMs(timeoutMs: number): number {
  return Math.min(Math.max(10, timeoutMs / 10), 1000);
}

/**
 * The status a gRPC call (`headers`, the request's) ended with, where the stream closed before its
 * status was delivered: CANCELLED where its session went (`sessionGone`: whatever code Node gave
 * its streams, NO_ERROR, CANCEL or, for a connection reset, INTERNAL_ERROR, it is the protocol's
 * "connection failure", whose open calls a server closes CANCELLED), else by its reset's code (see
 * RESET_STATUS); a cancellation that came once the call's `grpc-timeout` had passed, `elapsedMs`
 * after its arrival, is DEADLINE_EXCEEDED (the protocol counts a deadline's expiry as the client's
 * cancellation, which its client reports so). Undefined for a request that is no gRPC call, or
 * whose answer is not gRPC's (an HTTP/2 server that answered it as a plain request).
 */
export function cutShortGrpcStatus(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  elapsedMs: number,
  sessionGone: boolean,
): number | undefined {
  if (!isGrpc(headers) || (stream.headersSent && !isGrpc(stream.sentHeaders))) return undefined;
  const reset = stream.rstCode ?? 0;
  const code = sessionGone
    ? GRPC_CANCELLED
    : reset < RESET_STATUS.length
      ? RESET_STATUS[reset]
      : GRPC_INTERNAL;
  if (code !== GRPC_CANCELLED) return code;
  const timeout = grpcTimeoutMs(headers['grpc-timeout']);
  const expired = timeout !== undefined && elapsedMs >= timeout - deadlineSlackMs(timeout);
  return expired ? GRPC_DEADLINE_EXCEEDED : code;
}
