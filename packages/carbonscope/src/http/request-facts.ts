import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  type HttpRequestFacts,
  internedHttpFacts,
  KNOWN_HTTP_METHODS,
  OTHER_HTTP_METHOD,
} from '../energy/index.js';

// The table lives with the tracker, whose end() interns a caller's facts into the same objects.
export { KNOWN_HTTP_METHODS, OTHER_HTTP_METHOD };

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

/**
 * An HTTP/2 request's method (its `:method`) and scheme (whether its session is TLS) as the HTTP
 * metrics label them: the interned objects an HTTP/1 request of that method gets.
 */
export function methodFactsReader(
  knownMethods: readonly string[] = KNOWN_HTTP_METHODS,
): (method: string | undefined, encrypted: boolean) => HttpRequestFacts {
  const known = new Map(knownMethods.map((m) => [m, internedHttpFacts(m)]));
  const other = internedHttpFacts(OTHER_HTTP_METHOD);
  return (method, encrypted) => {
    const facts = known.get(method ?? '') ?? other;
    return encrypted ? facts.https : facts.http;
  };
}

/**
 * A request's method and scheme as the HTTP metrics label them. Every answer is one of the fixed
 * set of frozen objects energy/ interns, so a request allocates nothing for it.
 */
export function httpFactsReader(
  knownMethods: readonly string[] = KNOWN_HTTP_METHODS,
): (req: IncomingMessage) => HttpRequestFacts {
  const known = new Map(knownMethods.map((m) => [m, internedHttpFacts(m)]));
  const other = internedHttpFacts(OTHER_HTTP_METHOD);
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
