import { installExpressRoutes } from './express.js';
import { installFastifyRoutes } from './fastify.js';
import { installKoaRoutes } from './koa.js';

/**
 * Teaches carbonscope where Express, Fastify and @koa/router keep the matched route template.
 * Each resolver is a no-op for a framework that is not there; none imports a framework.
 */
export function installRouteResolvers(): void {
  installExpressRoutes();
  installFastifyRoutes();
  installKoaRoutes();
}
