import { trace } from '@opentelemetry/api';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';
import { endpointOf } from '../telemetry/http-metrics.js';

/** One line per request, carrying the trace id so a log line leads to its trace. */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const start = performance.now();
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    try {
      await next();
    } finally {
      const status = ctx.status;
      const line = {
        method: ctx.method,
        path: ctx.path.slice(0, 200),
        endpoint: endpointOf(ctx),
        status,
        durationMs: Math.round((performance.now() - start) * 1000) / 1000,
        traceId,
      };
      if (status >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
