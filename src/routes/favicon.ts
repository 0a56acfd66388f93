import type Router from '@koa/router';
import { pathRouter } from './router.js';

/**
 * `GET /favicon.ico`: no icon, said without an error. The HTML pages name an empty one, but a
 * browser that opens a JSON document (/energy, linked from every page) asks for this path, and
 * a 404 there is a console error on that page. Cached a day, so it asks once.
 */
export function faviconRoute(): Router {
  const router = pathRouter();
  router.get('/favicon.ico', (ctx) => {
    ctx.status = 204;
    ctx.set('Cache-Control', 'public, max-age=86400');
  });
  return router;
}
