import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';
import { hostProblem } from './host-header.js';
import { versionProblem } from './http-version.js';
import { addSecurityHeaders } from './security-headers.js';
import { appBegins, appEnds } from './shutdown-cut.js';
import {
  answerUnrouted,
  errorAnswer,
  HttpError,
  logRequest,
  markClientCaused,
} from './text/index.js';

/**
 * What every request passes through first and last, as one Koa layer: an error or a request no
 * route answered gets its JSON answer, then every answer its security headers, then the request
 * its log line. One layer rather than three: each layer is an async frame, a promise and
 * koa-compose's bound dispatch on every request (perf, the app without carbonscope on
 * /carbon_intensity: the three layers and koa-compose 3.6-4.6 µs of each request, this one
 * 2.8-3.3 µs).
 */
export function envelope(logger: Logger): Middleware {
  const answerError = errorAnswer(logger);
  return async (ctx, next) => {
    const start = performance.now();
    appBegins(ctx.res);
    try {
      try {
        const badVersion = versionProblem(ctx.req);
        if (badVersion !== undefined) {
          markClientCaused(ctx);
          // Closed after: Node keeps an HTTP/2.0 request's connection that asked it to, and read
          // what followed as HTTP/1.1 requests of a client that speaks another protocol.
          ctx.set('Connection', 'close');
          throw new HttpError(505, badVersion);
        }
        const badHost = hostProblem(ctx);
        if (badHost !== undefined) throw new HttpError(400, badHost);
        await next();
        if (ctx.body == null) answerUnrouted(ctx);
      } catch (caught) {
        answerError(ctx, caught);
      }
    } finally {
      addSecurityHeaders(ctx);
      logRequest(logger, ctx, start);
      appEnds(ctx.res);
    }
  };
}
