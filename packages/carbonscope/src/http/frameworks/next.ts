import type { IncomingMessage } from 'node:http';

/**
 * Where Next.js (13.4 to 16.5 read) keeps what its router learned of a request, on the request
 * itself: `next start` and standalone's server.js hand Node's own request to the route they match.
 */
const NEXT_META = Symbol.for('NextInternalRequestMeta');

/** The part of Next's request meta read here: the route it matched, and the one it invoked. */
interface NextMeta {
  readonly match?: { readonly definition?: { readonly pathname?: unknown } } | null;
  readonly invokeOutput?: unknown;
}

type NextRequest = IncomingMessage & { [NEXT_META]?: NextMeta | null };

/**
 * Next's own pages, which stand for no route: what it renders for a path no route matched (the
 * app router's `/_not-found`, the pages router's `/404`) and for a pages-router route that threw
 * (`/_error`, `/500`).
 */
function ownPage(route: unknown): boolean {
  return route === '/_not-found' || route === '/404' || route === '/_error' || route === '/500';
}

/**
 * The route pattern Next matched (`/blog/[slug]`, `/docs/[...all]`, `/api/items/[id]`), as its own
 * spans name `next.route` and `http.route`. Where it rendered one of its own pages instead (a
 * pages-router route that threw, or returned `notFound`), the route its router invoked, which it
 * keeps beside the match (`invokeOutput`, the same pattern). A path no route matched has none, nor
 * does a public file or a `/_next/static` asset: unmatched, as a 404 no route answered is
 * elsewhere. Read as the request ends; nothing of Next is patched or loaded.
 */
export function nextRouteOf(req: IncomingMessage): string | undefined {
  // Next's meta is internal and unversioned: read where it throws (a later Next's getter), it
  // would throw in a diagnostics channel's subscriber, which Node makes an uncaught exception.
  try {
    return routeIn((req as NextRequest)[NEXT_META]);
  } catch {
    return undefined;
  }
}

function routeIn(meta: NextMeta | null | undefined): string | undefined {
  const pathname = meta?.match?.definition?.pathname;
  if (typeof pathname === 'string' && !ownPage(pathname)) return pathname;
  const invoked = meta?.invokeOutput;
  return typeof invoked === 'string' && invoked !== '' && !ownPage(invoked) ? invoked : undefined;
}
