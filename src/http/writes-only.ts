import type { Middleware } from 'koa';

/** Methods that change nothing: no same-origin check. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `middleware` for a request whose method may change state; a GET, HEAD or OPTIONS goes straight
 * on (the same-origin check would only have passed it on). Most requests are reads, and an async
 * middleware costs each of them an async frame and a promise.
 */
export function writesOnly(middleware: Middleware): Middleware {
  return (ctx, next) => (SAFE_METHODS.has(ctx.method) ? next() : middleware(ctx, next));
}
