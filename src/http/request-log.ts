import { routeOf } from 'carbonscope';
import type { Context } from 'koa';
import type { Logger } from '../logger.js';

/**
 * One line per request, `start` its performance.now() on arrival. The trace id (`trace_id`) is
 * added by the OTel pino instrumentation, which injects the active span's context into every
 * line logged inside a request.
 */
export function logRequest(logger: Logger, ctx: Context, start: number): void {
  const status = ctx.status;
  const level = status >= 500 ? 'error' : 'info';
  // At the services' usual warn level the line is never written: not building it saves its
  // object, the path slice and the route lookup on every request.
  if (!logger.isLevelEnabled(level)) return;
  const line = {
    method: ctx.method,
    path: ctx.path.slice(0, 200),
    endpoint: routeOf(ctx.req),
    status,
    durationMs: Math.round((performance.now() - start) * 1000) / 1000,
  };
  logger[level](line, 'request');
}
