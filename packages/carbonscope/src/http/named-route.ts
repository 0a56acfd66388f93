import type { IncomingMessage } from 'node:http';
import { expressRouteOf, nextRouteOf } from './frameworks/index.js';
import {
  MAX_ROUTE_LENGTH,
  nodeShapedRequest,
  refuse,
  slotRoute,
  UNMATCHED_ROUTE,
} from './route.js';

// Apart from route.ts's slot, which the framework resolvers (frameworks/) write: reading a
// request's route asks Express's and Next's resolvers too, and a folder's files that its
// sub-folder uses must not use that sub-folder back.

/** The route template of `req`, or `unmatched` when nothing named one. */
export function routeOf(req: IncomingMessage): string {
  if (typeof req !== 'object' || req === null)
    refuse('the request must be an object', req, 'routeOf');
  return namedRoute(req) ?? UNMATCHED_ROUTE;
}

/**
 * The route template of `req` if one was named yet (Express's is read off the request). Read as
 * the request ends, when a framework may have reshaped it: see lookUp. `shaped` is
 * nodeShapedRequest(req), where the caller asked already.
 */
export function namedRoute(
  req: IncomingMessage,
  shaped = nodeShapedRequest(req),
): string | undefined {
  const own = slotRoute(req, shaped);
  // Next leaves Node's request as Node made it, and Express never does: an Express request is
  // not read for Next's meta, and a Next one is read before Express's two misses.
  const route = own ?? (shaped ? nextRouteOf(req) : undefined) ?? expressRouteOf(req, shaped);
  if (route === undefined) return undefined;
  return route.length > MAX_ROUTE_LENGTH ? route.slice(0, MAX_ROUTE_LENGTH) : route;
}
