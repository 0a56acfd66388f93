import type Router from '@koa/router';
import type { Context } from 'koa';

/**
 * The methods the router's routes take, and OPTIONS, which it answers on every path, as an
 * Allow lists them: what `OPTIONS *` is told of the service as a whole.
 */
export function serviceMethods(router: Router): string {
  const methods = new Set<string>();
  for (const layer of router.stack) for (const method of layer.methods) methods.add(method);
  methods.add('OPTIONS');
  return [...methods].join(', ');
}

/**
 * Answers `OPTIONS *` (RFC 9110 9.3.7: a question about the server, not a resource), which no
 * route matches and Koa answered 404, with the methods the service serves. 200 with no content,
 * not 204: 9.3.7 has a server send `Content-Length: 0` for an OPTIONS answer with no content,
 * which a 204 must not carry (8.6); Apache answers `OPTIONS *` so, and the router answers
 * OPTIONS on a path so. (nginx refuses the `*` target with 400, which tells a client nothing.)
 * Counted under route `*`, a constant. True where it answered.
 */
export function answerServerOptions(ctx: Context, allow: string): boolean {
  if (ctx.method !== 'OPTIONS' || ctx.url !== '*') return false;
  ctx.status = 200;
  ctx.body = '';
  ctx.set('Allow', allow);
  (ctx as Context & { _matchedRoute?: string })._matchedRoute = '*';
  return true;
}
