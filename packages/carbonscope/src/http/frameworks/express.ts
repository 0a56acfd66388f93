import { IncomingMessage } from 'node:http';
import { setRoute } from '../route.js';

const VALUE = Symbol('carbonscope.express.route');
type WithRoute = IncomingMessage & { [VALUE]?: unknown; baseUrl?: unknown };

let installed = false;

function pathOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) return path.map(pathOf).join('|');
  return undefined;
}

/**
 * Express (4 and 5, and what is built on it, e.g. Nest) assigns `req.route` when a route matches,
 * while `req.baseUrl` still holds the mount path of the router that matched; later, as the
 * routers unwind, baseUrl is restored. So the template is taken at that assignment, through an
 * accessor on IncomingMessage.prototype that reads and writes like the plain property it
 * replaces. It costs one setter call per routed request and nothing else.
 */
export function installExpressRoutes(): void {
  if (installed || Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'route')) return;
  installed = true;
  Object.defineProperty(IncomingMessage.prototype, 'route', {
    configurable: true,
    enumerable: false,
    get(this: WithRoute) {
      return this[VALUE];
    },
    set(this: WithRoute, route: unknown) {
      this[VALUE] = route;
      const path = pathOf((route as { path?: unknown } | null)?.path);
      if (path === undefined) return;
      const base = typeof this.baseUrl === 'string' ? this.baseUrl : '';
      setRoute(this, base + path);
    },
  });
}
