import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { HttpRequestFacts } from '../energy/index.js';

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

/**
 * `http.request.method` of a method outside a request's hot path (an answer given before any
 * request was made of it): the method when it is a known one, else `_OTHER`, as for requests.
 */
export function httpMethodLabel(
  method: string | undefined,
  knownMethods: readonly string[] = KNOWN_HTTP_METHODS,
): string {
  return method !== undefined && knownMethods.includes(method) ? method : OTHER_HTTP_METHOD;
}

type ByScheme = Readonly<Record<HttpRequestFacts['scheme'], HttpRequestFacts>>;

function byScheme(method: string): ByScheme {
  return {
    http: Object.freeze({ method, scheme: 'http' }),
    https: Object.freeze({ method, scheme: 'https' }),
  };
}

/**
 * A request's method and scheme as the HTTP metrics label them. Every answer is one of a fixed
 * set of frozen objects made here, so a request allocates nothing for it.
 */
export function httpFactsReader(
  knownMethods: readonly string[] = KNOWN_HTTP_METHODS,
): (req: IncomingMessage) => HttpRequestFacts {
  const known = new Map(knownMethods.map((m) => [m, byScheme(m)]));
  const other = byScheme(OTHER_HTTP_METHOD);
  // The last method's answer: most requests repeat the method before them, and Node's parser
  // hands out one string per method, so the comparison is usually of two pointers where the
  // map's lookup hashes (perf: ~0.2 µs per request in a loaded server, in its hash lookup).
  let lastMethod: string | undefined;
  let lastFacts = other;
  return (req) => {
    const method = req.method;
    let facts = lastFacts;
    if (method !== lastMethod) {
      facts = known.get(method ?? '') ?? other;
      lastMethod = method;
      lastFacts = facts;
    }
    return (req.socket as TLSSocket | undefined)?.encrypted === true ? facts.https : facts.http;
  };
}
