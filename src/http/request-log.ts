import { routeOf } from 'carbonscope';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';

/**
 * One line per request. The trace id (`trace_id`) is added by the OTel pino instrumentation,
 * which injects the active span's context into every line logged inside a request.
 */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const status = ctx.status;
      const line = {
        method: ctx.method,
        path: ctx.path.slice(0, 200),
        endpoint: routeOf(ctx.req),
        status,
        durationMs: Math.round((performance.now() - start) * 1000) / 1000,
      };
      if (status >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
