import type { IncomingMessage } from 'node:http';

type ExpressRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: unknown };

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
  const express = req as ExpressRequest;
  const path = pathOf(express.route?.path);
  if (path === undefined) return undefined;
  return typeof express.baseUrl === 'string' ? express.baseUrl + path : path;
}
