import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';
import { answerUnrouted, errorAnswer, HttpError } from './errors.js';
import { logRequest } from './request-log.js';
import { addSecurityHeaders } from './security-headers.js';

/**
 * What every request passes through first and last, as one Koa layer: an error or a request no
 * route answered gets its JSON answer, then every answer its security headers, then the request
 * its log line. One layer rather than three: each layer is an async frame, a promise and
 * koa-compose's bound dispatch on every request (perf, the app without carbonscope on
 * /carbon_intensity: the three layers and koa-compose 3.6-4.6 µs of each request, this one
 * 2.8-3.3 µs).
 */
/**
 * An HTTP/1.1 request must carry Host (RFC 9112 §3.2; HTTP/1.0 need not). Node would refuse it
 * itself with a bare 400; the service's server leaves it to the app (`requireHostHeader: false`)
 * so that it gets the JSON answer, headers and log line of every client error.
 */
function lacksRequiredHost(req: IncomingMessage): boolean {
  return req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1;
}

export function envelope(logger: Logger, bodyLimitBytes: number): Middleware {
  const answerError = errorAnswer(logger, bodyLimitBytes);
  return async (ctx, next) => {
    const start = performance.now();
    try {
      try {
        if (lacksRequiredHost(ctx.req)) {
          throw new HttpError(400, 'the request has no Host header, which HTTP/1.1 requires');
        }
        await next();
        if (ctx.body == null) answerUnrouted(ctx);
      } catch (caught) {
        answerError(ctx, caught);
      }
    } finally {
      addSecurityHeaders(ctx);
      logRequest(logger, ctx, start);
    }
  };
}
