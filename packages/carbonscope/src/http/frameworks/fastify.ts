import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { setRoute } from '../route.js';

/** Published by Fastify 5 before each route handler runs, with the matched route. */
const HANDLER_START = 'tracing:fastify.request.handler:start';
/** Published by Fastify (4 and 5) as each instance is built, before any route is added. */
const INITIALIZATION = 'fastify.initialization';

interface HandlerMessage {
  request?: { raw?: IncomingMessage; routeOptions?: { url?: unknown } };
  route?: { url?: unknown };
}

type Done = (err?: Error) => void;
type OnRequest = (request: { raw: IncomingMessage }, reply: unknown, done: Done) => void;

/** The part of a Fastify 4 instance and of its onRoute options that naming routes uses. */
interface FastifyInstance {
  version?: unknown;
  addHook(name: 'onRoute', hook: (route: RouteOptions) => void): unknown;
}
interface RouteOptions {
  url?: unknown;
  onRequest?: unknown;
}

let installed = false;

/**
 * Fastify 4 has no handler channel: each route it adds gets a first onRequest hook that names
 * it (made once per route, so a request allocates nothing). The template includes the prefix
 * of the plugin that added it, as Fastify 5's channel gives it.
 */
function nameEachRoute(fastify: FastifyInstance): void {
  const major = Number.parseInt(String(fastify.version), 10);
  if (!(major < 5)) return;
  fastify.addHook('onRoute', (route) => {
    const url = route.url;
    if (typeof url !== 'string') return;
    const name: OnRequest = (request, _reply, done) => {
      setRoute(request.raw, url);
      done();
    };
    const own = route.onRequest;
    route.onRequest = own === undefined ? [name] : [name, ...(Array.isArray(own) ? own : [own])];
  });
}

/**
 * Fastify names its route on its own diagnostics channel (5) or tells us of each instance it
 * builds (4): read them there. Must run before the application builds its Fastify 4 instance
 * (register and the instrumentation call it as they load).
 */
export function installFastifyRoutes(): void {
  if (installed) return;
  installed = true;
  subscribe(HANDLER_START, (message) => {
    const m = message as HandlerMessage;
    const url = m.route?.url ?? m.request?.routeOptions?.url;
    const raw = m.request?.raw;
    if (raw && typeof url === 'string') setRoute(raw, url);
  });
  subscribe(INITIALIZATION, (message) => {
    const fastify = (message as { fastify?: FastifyInstance }).fastify;
    if (fastify && typeof fastify.addHook === 'function') nameEachRoute(fastify);
  });
}
