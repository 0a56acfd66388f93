import type { Middleware } from 'koa';

/** Methods that change nothing: no same-origin check, and no body the app reads. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `first`, then `second`, as one Koa layer, for a request whose method may change state; a GET,
 * HEAD or OPTIONS goes straight on (both would only have passed it on: the same-origin check
 * and the body parser). Most requests are reads, and each layer costs them an async frame, a
 * promise and koa-compose's bound dispatch.
 */
export function writesOnly(first: Middleware, second: Middleware): Middleware {
  return (ctx, next) =>
    SAFE_METHODS.has(ctx.method) ? next() : first(ctx, () => second(ctx, next));
}
