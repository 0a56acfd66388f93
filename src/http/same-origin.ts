import type { Context, Middleware } from 'koa';
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
  try {
    return new URL(origin).host !== ctx.host;
  } catch {
    // `Origin: null` (a sandboxed frame, a data: page) and anything unreadable.
    return true;
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
