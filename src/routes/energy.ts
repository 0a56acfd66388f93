import type Router from '@koa/router';
import type { EnergySnapshot } from 'carbonscope';
import { pathRouter } from './router.js';

/**
 * `GET /energy`: what the meter knows now — the sources and why they were chosen, power by
 * scope, component and source, energy and emissions totals for host and process, the
 * attribution mode, the zone and intensity used, and whether each figure is measured or
 * estimated.
 */
export function energyRoutes(energy: { snapshot(): EnergySnapshot }): Router {
  const router = pathRouter();
  router.get('/energy', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = energy.snapshot();
  });
  return router;
}
