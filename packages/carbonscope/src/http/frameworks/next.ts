import type { IncomingMessage } from 'node:http';

/**
 * Where Next.js (13.4 to 16.5 read) keeps what its router learned of a request, on the request
 * itself: `next start` and standalone's server.js hand Node's own request to the route they match.
 */
const NEXT_META = Symbol.for('NextInternalRequestMeta');

/** The part of Next's request meta read here: the route it matched, if any. */
interface NextMeta {
  readonly match?: { readonly definition?: { readonly pathname?: unknown } } | null;
}

type NextRequest = IncomingMessage & { [NEXT_META]?: NextMeta | null };

/**
 * The route pattern Next matched (`/blog/[slug]`, `/docs/[...all]`, `/api/items/[id]`), as its own
 * spans name `next.route` and `http.route`. The page Next renders for a path no route matched
 * (the app router's `/_not-found`, the pages router's `/404`) is no route: unmatched, as a 404
 * no route answered is elsewhere. A public file or `/_next/static` asset has no match. Read as
 * the request ends; nothing of Next is patched or loaded.
 */
export function nextRouteOf(req: IncomingMessage): string | undefined {
  const pathname = (req as NextRequest)[NEXT_META]?.match?.definition?.pathname;
  if (typeof pathname !== 'string' || pathname === '/_not-found' || pathname === '/404') {
    return undefined;
  }
  return pathname;
}
