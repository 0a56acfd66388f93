import type { OperationTracker } from 'carbonscope';
import type { Middleware } from 'koa';
import { endpointOf } from '../telemetry/http-metrics.js';

/**
 * The name every request begins under; it is renamed to its route template when it ends. The
 * dashboard tells requests from other operations by it.
 */
export const REQUEST_OPERATION = 'request';

/**
 * Tracks every request as one operation named by its route template (`/predict`), so
 * `operation_energy_joules{operation}` stays bounded like `requests_total{endpoint}`. The name is
 * known only after routing, so the operation is renamed when it ends.
 */
export function trackRequests(tracker: OperationTracker): Middleware {
  return async (ctx, next) => {
    const op = tracker.begin(REQUEST_OPERATION);
    try {
      await next();
    } finally {
      op.end(endpointOf(ctx));
    }
  };
}
