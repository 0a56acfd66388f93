import type Router from '@koa/router';
import type { Context } from 'koa';

/**
 * Notes the template of the route that will serve the request (`/chat`) where the router would,
 * for an answer given before the router ran (a cross-origin write refused): the request is then
 * logged and counted under its route rather than as `unmatched`.
 */
export function noteRoute(router: Router, ctx: Context): void {
  const routed = ctx as Context & { _matchedRoute?: string | RegExp };
  if (routed._matchedRoute !== undefined) return;
  const layers = router.match(ctx.path, ctx.method).pathAndMethod;
  // The router's own choice: the last layer that matched path and method.
  const template = layers[layers.length - 1]?.path;
  if (typeof template === 'string') routed._matchedRoute = template;
}
