import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setRoute } from '../route.js';
import { appPackageFile, loadAppModule } from './app-module.js';

/** The method of hapi's own routes (its 404 and 400): a request left on one matched none. */
const SPECIAL = '_special';
const WRAPPED = Symbol.for('carbonscope.hapi.lookup');

/** What of a hapi request naming reads: its public route and the Node request beneath it. */
interface HapiRequest {
  route?: { method?: unknown; path?: unknown };
  raw?: { req?: IncomingMessage };
}

type Lookup = ((this: HapiRequest, ...args: unknown[]) => unknown) & { [WRAPPED]?: true };

let installed = false;

/**
 * Names a hapi request by the route it matched (`request.route.path`, plugin prefix included:
 * `/users/{id}`), once `_lookup` matched it and before any handler or extension could answer;
 * a request no route matched stays on hapi's 404 route and is `unmatched`.
 */
function nameRoute(request: HapiRequest): void {
  const route = request.route;
  const req = request.raw?.req;
  if (!route || !req || route.method === SPECIAL || typeof route.path !== 'string') return;
  setRoute(req, route.path);
}

/**
 * hapi (20, 21) publishes no diagnostics channel and takes extensions only per server, which
 * carbonscope never holds. Every request it serves is matched to its route in one method of its
 * Request class, `_lookup`, called once per request before its lifecycle: wrapping that on the
 * prototype (in the hapi the application's folder resolves, as Koa's context is found) names the
 * route of every hapi server of the process for one call more per request. A hapi without that
 * method is left alone, and its requests are `unmatched`.
 */
export function installHapiRoutes(): void {
  if (installed) return;
  installed = true;
  const file = appPackageFile('@hapi/hapi', join('lib', 'request.js'));
  if (!file) return;
  let proto: { _lookup?: Lookup } | undefined;
  try {
    proto = (loadAppModule(file) as { prototype?: { _lookup?: Lookup } }).prototype;
  } catch {
    return;
  }
  const lookup = proto?._lookup;
  if (!proto || typeof lookup !== 'function' || lookup[WRAPPED]) return;
  const wrapped: Lookup = function (this: HapiRequest, ...args: unknown[]): unknown {
    const result = lookup.apply(this, args);
    nameRoute(this);
    return result;
  };
  wrapped[WRAPPED] = true;
  proto._lookup = wrapped;
}
