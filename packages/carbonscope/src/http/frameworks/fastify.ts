import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { setHidden } from '../../hidden-slot.js';
import { routeNamed, setRoute } from '../route.js';

/** Published by Fastify 5 before each route handler runs, with the matched route. */
const HANDLER_START = 'tracing:fastify.request.handler:start';
/** Published by Fastify (4 and 5) as each instance is built, before any route is added. */
const INITIALIZATION = 'fastify.initialization';
/** The description of the symbol under which a Fastify request (4 and 5) keeps its route. */
const ROUTE_CONTEXT = 'fastify.context';

interface HandlerMessage {
  request?: { raw?: IncomingMessage; routeOptions?: { url?: unknown } };
  route?: { url?: unknown };
}

/** What a Fastify request keeps of the route it matched. */
interface RouteContext {
  config?: { url?: unknown };
}

/** The part of a Fastify request (4 and 5) that naming its route reads. */
interface FastifyRequest {
  raw: IncomingMessage;
  readonly routeOptions?: { url?: unknown };
  /** Fastify 4.0 to 4.6's own field; later ones have a deprecated getter (FSTDEP012) there. */
  readonly context?: RouteContext;
  [key: symbol]: RouteContext | undefined;
}

type Done = (err?: Error) => void;

/** The part of a Fastify instance that naming routes uses. */
interface FastifyInstance {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequest, reply: unknown, done: Done) => void,
  ): unknown;
}

/**
 * Set once per process, on globalThis: another copy of the package (a dependency's) subscribed
 * again, and every request of every Fastify instance was named once per copy, one hook each.
 * The copies name a route alike (setRoute's slot is Symbol.for), so the first one serves all.
 * A version that names routes otherwise, or keeps them elsewhere, needs a key of its own (v2):
 * under this one it would go unheard. Nothing unsubscribes, so no copy's stop unnames routes.
 */
const INSTALLED = Symbol.for('carbonscope.fastify-routes.v1');
const holder = globalThis as { [INSTALLED]?: boolean };
/** The symbol of a request's route context: undefined until a request was seen, null if none. */
let routeContext: symbol | null | undefined;

/**
 * The template of the route `request` matched (with its plugins' prefixes), undefined for
 * Fastify's 404 handler. Read where Fastify keeps it for its own `routeOptions` getter: that
 * getter builds an object of a dozen fields per call. Found by its symbol's description, once;
 * should a Fastify keep it elsewhere, the getter answers. Fastify 4.0 to 4.6 have neither (the
 * symbol came in 4.7, the getter in 4.10): the context is the request's own `context` field, and
 * their requests were all `unmatched`. Read only where it is the request's own, never through
 * the later versions' getter, which warns.
 */
function routeUrlOf(request: FastifyRequest): unknown {
  if (routeContext === undefined) {
    routeContext =
      Object.getOwnPropertySymbols(request).find((s) => s.description === ROUTE_CONTEXT) ?? null;
  }
  const config = routeContext === null ? undefined : request[routeContext]?.config;
  if (config) return config.url;
  const url = request.routeOptions?.url;
  if (url !== undefined || !Object.hasOwn(request, 'context')) return url;
  return request.context?.config?.url;
}

/**
 * A request's first onRequest hook: it names the route before any hook of the application can
 * answer the request (an auth hook's 401, any hook up to preHandler). Fastify 4 has no handler
 * channel, and Fastify 5's is published only when the handler runs, so those requests were
 * `unmatched`. Added to the instance as it is built, before the application adds anything, so
 * it is first for every route of every plugin (a route's own hooks run after the instance's:
 * one per route came too late). It costs one hook per request: no channel or hook Fastify
 * offers names a route before its hooks run for less.
 */
const nameRoute = (request: FastifyRequest, _reply: unknown, done: Done): void => {
  const url = routeUrlOf(request);
  if (typeof url === 'string') setRoute(request.raw, url);
  done();
};

/**
 * Fastify tells of each instance it builds (4 and 5), which then names its routes (nameRoute),
 * and Fastify 5 names the route on its handler channel too, which covers an instance built
 * before carbonscope loaded (but for the requests its hooks answer); a request nameRoute named
 * is left as it is there. Must run before the
 * application builds its Fastify instance (register and the instrumentation call it as they
 * load).
 */
export function installFastifyRoutes(): void {
  if (holder[INSTALLED]) return;
  setHidden(holder, INSTALLED, true);
  subscribe(HANDLER_START, (message) => {
    const m = message as HandlerMessage;
    const raw = m.request?.raw;
    // Named already by nameRoute (an instance built after this), or by the application.
    if (!raw || routeNamed(raw)) return;
    const url = m.route?.url ?? m.request?.routeOptions?.url;
    if (typeof url === 'string') setRoute(raw, url);
  });
  subscribe(INITIALIZATION, (message) => {
    const fastify = (message as { fastify?: FastifyInstance }).fastify;
    if (fastify && typeof fastify.addHook === 'function') fastify.addHook('onRequest', nameRoute);
  });
}
