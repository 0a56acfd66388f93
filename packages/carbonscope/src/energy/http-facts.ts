import type { HttpRequestFacts } from './types.js';

/**
 * The methods the HTTP semantic conventions know by default (RFC 9110's and PATCH). Any other
 * is labelled `_OTHER`: Node accepts some thirty methods, and a client picks the method.
 * OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS replaces the list, as the conventions ask.
 */
export const KNOWN_HTTP_METHODS = [
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
] as const;

export const OTHER_HTTP_METHOD = '_OTHER';

export type HttpFactsByScheme = Readonly<Record<HttpRequestFacts['scheme'], HttpRequestFacts>>;

/**
 * The frozen facts of each method label, one pair per label for the whole process: the HTTP
 * metrics keep an entry per facts object, so request tracking and end() must hand out these
 * same ones. Only a known list's methods and `_OTHER` come here, so it is as small as the
 * configured lists.
 */
const interned = new Map<string, HttpFactsByScheme>();

/** The frozen facts of `label`, a method of a known list or `_OTHER` (never a client's). */
export function internedHttpFacts(label: string): HttpFactsByScheme {
  let pair = interned.get(label);
  if (!pair) {
    pair = {
      http: Object.freeze({ method: label, scheme: 'http' }),
      https: Object.freeze({ method: label, scheme: 'https' }),
    };
    interned.set(label, pair);
  }
  return pair;
}

/** Each interned facts object's gRPC variants, by status code (see grpcFacts). */
const byGrpcStatus = new Map<HttpRequestFacts, HttpRequestFacts[]>();

/**
 * The frozen facts of a gRPC call of `facts` (interned ones) that ended with `status`: as few as
 * the interned ones times gRPC's 17 codes, the caller's to bound.
 */
export function grpcFacts(facts: HttpRequestFacts, status: number): HttpRequestFacts {
  let codes = byGrpcStatus.get(facts);
  if (!codes) {
    codes = [];
    byGrpcStatus.set(facts, codes);
  }
  let variant = codes[status];
  if (!variant) {
    variant = Object.freeze({ method: facts.method, scheme: facts.scheme, grpcStatus: status });
    codes[status] = variant;
  }
  return variant;
}

/**
 * What end() does with a caller's status and facts before they label a series: a status no
 * response has is refused (each is a series of its own), and the facts become the interned
 * object of their scheme and method, `_OTHER` for a method outside `knownMethods`.
 */
export function httpEndChecker(
  knownMethods: readonly string[] = KNOWN_HTTP_METHODS,
): (status: unknown, facts: unknown) => HttpRequestFacts | undefined {
  const known = new Map(knownMethods.map((m) => [m, internedHttpFacts(m)]));
  const other = internedHttpFacts(OTHER_HTTP_METHOD);
  return (status, facts) => {
    if (status !== undefined) checkStatus(status);
    if (facts === undefined) return undefined;
    const { method, scheme } = checkedFacts(facts);
    return (known.get(method) ?? other)[scheme];
  };
}

function checkStatus(status: unknown): void {
  if (typeof status !== 'number') {
    throw new TypeError(`end(): an HTTP status is a number, not ${describe(status)}`);
  }
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`end(): an HTTP status is a whole number from 100 to 599, not ${status}`);
  }
}

function checkedFacts(facts: unknown): HttpRequestFacts {
  if (typeof facts !== 'object' || facts === null) {
    throw new TypeError(`end(): the HTTP facts are { method, scheme }, not ${describe(facts)}`);
  }
  const { method, scheme } = facts as Record<string, unknown>;
  if (typeof method !== 'string') {
    throw new TypeError(`end(): the HTTP method is a string, not ${describe(method)}`);
  }
  if (scheme !== 'http' && scheme !== 'https') {
    const got = typeof scheme === 'string' ? JSON.stringify(scheme) : describe(scheme);
    throw new TypeError(`end(): the HTTP scheme is "http" or "https", not ${got}`);
  }
  return { method, scheme };
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
