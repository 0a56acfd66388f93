import type Router from '@koa/router';
import type { Readiness } from '../readiness.js';
import { pathRouter } from './router.js';

export function healthRoutes(readiness: Readiness): Router {
  const router = pathRouter();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', (ctx) => {
    const status = readiness.status();
    ctx.status = status.ready ? 200 : 503;
    ctx.body = status;
  });
  return router;
}
