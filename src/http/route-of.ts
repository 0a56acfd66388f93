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

type Layer = { path: unknown; methods: readonly string[] };

/**
 * Notes the template of the route whose path matched where none took the method: the router's
 * 405, and its answer to OPTIONS (an Allow). The path matched, so the request is counted under
 * its route, the status telling what was wrong. Only a template the router has (the layers it
 * matched on the path, `ctx.matched`) is noted, so the label stays bounded; a 404 matched none.
 */
export function notePathRoute(ctx: Context): void {
  const routed = ctx as Context & { _matchedRoute?: string | RegExp; matched?: Layer[] };
  if (routed._matchedRoute !== undefined || !routed.matched) return;
  for (let i = routed.matched.length - 1; i >= 0; i--) {
    const layer = routed.matched[i];
    // Middleware layers take every method and name no route.
    if (layer && layer.methods.length > 0 && typeof layer.path === 'string') {
      routed._matchedRoute = layer.path;
      return;
    }
  }
}

/**
 * The template of the route a request for `path` and `method` is counted under, for one the app
 * never saw (Node refused its Expect): the route that takes both, else one whose path matched,
 * as a 405 is counted; undefined for a path no route matches (a 404, `unmatched`). Only
 * templates the router has, so the label stays bounded.
 */
export function routeTemplate(router: Router, path: string, method: string): string | undefined {
  const { path: onPath, pathAndMethod } = router.match(path, method);
  const taken = pathAndMethod[pathAndMethod.length - 1]?.path;
  if (typeof taken === 'string') return taken;
  for (let i = onPath.length - 1; i >= 0; i--) {
    const layer = onPath[i] as Layer | undefined;
    if (layer && layer.methods.length > 0 && typeof layer.path === 'string') return layer.path;
  }
  return undefined;
}
