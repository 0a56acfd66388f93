import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { setRoute } from '../route.js';

/** Published by Fastify 5 before each route handler runs, with the matched route. */
const HANDLER_START = 'tracing:fastify.request.handler:start';

interface HandlerMessage {
  request?: { raw?: IncomingMessage; routeOptions?: { url?: unknown } };
  route?: { url?: unknown };
}

let installed = false;

/** Fastify names its route on its own diagnostics channel: read it there. */
export function installFastifyRoutes(): void {
  if (installed) return;
  installed = true;
  subscribe(HANDLER_START, (message) => {
    const m = message as HandlerMessage;
    const url = m.route?.url ?? m.request?.routeOptions?.url;
    const raw = m.request?.raw;
    if (raw && typeof url === 'string') setRoute(raw, url);
  });
}
