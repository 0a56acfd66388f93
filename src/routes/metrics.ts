import Router from '@koa/router';
import type { MetricsHandler } from '../app.js';

/** Mounts the Prometheus reader's handler on the app's own port, so there is no second port. */
export function metricsRoute(handler: MetricsHandler): Router {
  const router = new Router();
  router.get('/metrics', (ctx) => {
    ctx.status = 200;
    ctx.respond = false;
    handler(ctx.req, ctx.res);
  });
  return router;
}
