import { installFastifyRoutes } from './fastify.js';
import { installKoaRoutes } from './koa.js';

export { expressRouteOf } from './express.js';
export { warnIfKoaUnreached } from './koa.js';

/**
 * Teaches carbonscope where Fastify and @koa/router keep the matched route template (Express's
 * is read off the request when it ends). Each is a no-op for a framework that is not there;
 * none imports a framework.
 */
export function installRouteResolvers(): void {
  installFastifyRoutes();
  installKoaRoutes();
}
