import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, ServerHttp2Stream } from 'node:http2';
import { typeOf } from '../argument-checks.js';
import { nodeHttp } from '../node-http.js';
import { lookUp, nodeShaped } from './look-up.js';

/** Where a request's route template is kept once a framework (or the app) named it. */
const ROUTE = Symbol.for('carbonscope.http.route');
const REQUEST_PROTOTYPE = nodeHttp.IncomingMessage.prototype;

/** Every request no route named shares this operation name, so random paths add nothing. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Route templates longer than this are cut: a template comes from code, but code can be odd. */
export const MAX_ROUTE_LENGTH = 200;

type Routed = IncomingMessage & { [ROUTE]?: string };

/**
 * What a route can be named on: a `node:http` request, an HTTP/2 compat request, or the stream
 * of an HTTP/2 server's core API (`server.on('stream')`), which has no request object.
 */
export type RoutableRequest = IncomingMessage | Http2ServerRequest | ServerHttp2Stream;

/**
 * Names the route template that served `req` (`/users/:id`), as the semconv `http.route`. The
 * framework resolvers call it; a plain `node:http` service can call it from its handler. Never
 * pass the raw path: the template is what keeps the operation names bounded. An empty template
 * is the root, `/`: an empty operation name and `http.route` label said nothing.
 */
export function setRoute(req: RoutableRequest, template: string): void {
  // Checked at the call: a JavaScript caller's number or object became the operation's label as
  // its JSON, and a Symbol failed every metrics collection after it, each scrape, each push.
  if (typeof template !== 'string') refuse('the route template must be a string', template);
  if (typeof req !== 'object' || req === null) refuse('the request must be an object', req);
  (req as Routed)[ROUTE] =
    template.length > MAX_ROUTE_LENGTH
      ? template.slice(0, MAX_ROUTE_LENGTH)
      : template === ''
        ? '/'
        : template;
}

export function refuse(what: string, got: unknown, caller = 'setRoute'): never {
  throw new TypeError(`${caller}(): ${what} (got ${typeOf(got)})`);
}

/**
 * True once something named `req`'s route (setRoute): a later namer of the same route, Fastify
 * 5's handler channel after carbonscope's hook, can leave it, and an application's own name
 * stands. A request Express reshaped is never asked.
 */
export function routeNamed(req: IncomingMessage): boolean {
  return (req as Routed)[ROUTE] !== undefined;
}

/**
 * Gives `req` its route slot, empty, as tracking begins: reading it later is then an own
 * property. A property a request lacks is looked up through its prototype chain on every read,
 * and Express's requests inherit from `app.request`, whose dozens of accessors made that miss
 * one of the larger parts of carbonscope's cost per request under Express (perf, no inlining).
 */
export function reserveRoute(req: IncomingMessage): void {
  (req as Routed)[ROUTE] = undefined;
}

/** Whether `req` is the object Node made, not one a framework reshaped (see lookUp). */
export function nodeShapedRequest(req: IncomingMessage): boolean {
  return nodeShaped(req, REQUEST_PROTOTYPE);
}

/**
 * The route template setRoute put on `req`, or undefined: `shaped` is nodeShapedRequest(req),
 * asked once by the caller, which reads Express's and Next's own too (named-route.ts).
 */
export function slotRoute(req: IncomingMessage, shaped: boolean): string | undefined {
  return shaped ? (req as Routed)[ROUTE] : lookUp<string>(req, ROUTE);
}

/**
 * The route template named (setRoute) on an HTTP/2 compat request or core stream, if one was:
 * no Express serves HTTP/2, and these objects are never Node's IncomingMessage.
 */
export function namedHttp2Route(
  target: Http2ServerRequest | ServerHttp2Stream,
): string | undefined {
  const route = lookUp<string>(target, ROUTE);
  if (route === undefined) return undefined;
  return route.length > MAX_ROUTE_LENGTH ? route.slice(0, MAX_ROUTE_LENGTH) : route;
}
