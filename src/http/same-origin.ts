import type { Context, Middleware } from 'koa';
import { targetOrigin } from './host-header.js';
import { errorBody } from './text/index.js';
import { SAFE_METHODS } from './writes-only.js';

/**
 * True when the browser says the request comes from a page of another origin. Its own
 * Sec-Fetch-Site is taken first: it compares the origins the browser saw, where the Host the
 * service sees is a reverse proxy's choice (nginx sends the upstream's name by default, `$host`
 * without the port), so Origin against Host refused every same-origin form posted through one.
 * A page cannot set a Sec- header (the Fetch spec forbids it), and what a non-browser sends is
 * no cross-site forgery. Origin against Host is left for browsers that send no Sec-Fetch-Site.
 */
function crossOrigin(ctx: Context): boolean {
  const site = ctx.get('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return true;
  if (site === 'same-origin') return false;
  const origin = ctx.get('origin');
  if (origin === '') return false;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    // `Origin: null` (a sandboxed frame, a data: page) and anything unreadable.
    return true;
  }
  // RFC 9112 §3.2.2: an absolute-form target's authority stands in for Host, and its scheme
  // is the request's: an Origin of another scheme is another origin (`https://a` posting to
  // `http://a/`). A path says no scheme (behind a proxy that ends TLS the service sees http),
  // so Host is compared in the Origin's.
  const target = targetOrigin(ctx.url);
  if (target !== undefined) {
    return (
      from.protocol !== target.protocol || from.host !== hostAsIn(target.protocol, target.host)
    );
  }
  const host = ctx.host;
  return from.host !== host && from.host !== hostAsIn(from.protocol, host);
}

/**
 * `host` (already a valid `host[:port]`, hostProblem) as the URL standard writes an origin's:
 * lower case, the scheme's default port left out (`EXAMPLE.COM:80` is `example.com` for http),
 * an IP address in its one form. Origin is always written so, and Host need not be: compared
 * raw, a Host an HTTP client wrote in capitals or with its default port was refused. The scheme
 * is the Origin's: behind a proxy that ends TLS the service sees http, and a Host of
 * `a:443` is the page's own. Undefined for a host no URL takes (an empty one).
 */
function hostAsIn(protocol: string, host: string): string | undefined {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a state-changing request a browser sends from another site's page: a form posted to
 * /chat from anywhere would spend the LLM quota and meter it as ours (forms need no CORS
 * preflight). Browsers send Sec-Fetch-Site and Origin with every POST; API clients (curl, SDKs)
 * send neither and are served as before. `onRefuse` runs first (the app notes the route there,
 * so the refusal is counted under it).
 */
export function sameOriginWrites(onRefuse: (ctx: Context) => void = () => {}): Middleware {
  return async (ctx, next) => {
    if (SAFE_METHODS.has(ctx.method) || !crossOrigin(ctx)) return next();
    onRefuse(ctx);
    ctx.status = 403;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = errorBody(
      403,
      `cross-origin ${ctx.method} refused: send it from this service's own pages, or without an Origin header from an API client`,
    );
  };
}
