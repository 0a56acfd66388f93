import type { IncomingMessage } from 'node:http';
import { lookUp } from '../look-up.js';

function pathOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) return path.map(pathOf).join('|');
  return undefined;
}

/**
 * The route template Express (4 and 5, and what is built on it, e.g. Nest) matched: `req.route`
 * with the mount path of the router that matched it in `req.baseUrl`. Read when the response
 * finishes: a router that handled the request never restores its baseUrl, so both still say
 * what matched. Nothing of Express is patched; a request Express never routed has no `route`.
 */
export function expressRouteOf(req: IncomingMessage): string | undefined {
  // Each Express request has a map of its own, so these reads go around V8's caches (lookUp).
  const path = pathOf(lookUp<{ path?: unknown }>(req, 'route')?.path);
  if (path === undefined) return undefined;
  const baseUrl = lookUp<unknown>(req, 'baseUrl');
  return typeof baseUrl === 'string' ? baseUrl + path : path;
}
