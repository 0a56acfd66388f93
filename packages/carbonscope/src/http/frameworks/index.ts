import { installFastifyRoutes } from './fastify.js';
import { installHapiRoutes } from './hapi.js';
import { installKoaRoutes } from './koa.js';

export { expressRouteOf } from './express.js';
export { nameHapiRoutesIfLoaded, warnIfHapiUnreached } from './hapi.js';
export { nameKoaRoutesIfLoaded, warnIfKoaUnreached } from './koa.js';
export { nextRouteOf } from './next.js';
export { callsMethods } from './unreached.js';

/**
 * Teaches carbonscope where Fastify, @koa/router and hapi keep the matched route template
 * (Express's and Restify's `req.route` is read off the request when it ends). Each is a no-op
 * for a framework that is not installed; none imports one the application has not installed.
 */
export function installRouteResolvers(): void {
  installFastifyRoutes();
  installKoaRoutes();
  installHapiRoutes();
}
