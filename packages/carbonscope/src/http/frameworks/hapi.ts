import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { setRoute } from '../route.js';
import { appPackageFile, loadedAppModule } from './app-module.js';
import { callsMethods, unreachedWarner } from './unreached.js';

/** The method of hapi's own routes (its 404 and 400): a request left on one matched none. */
const SPECIAL = '_special';
/** On the wrapped method, for every copy of carbonscope to see: hapi's Request has one. */
const WRAPPED = Symbol.for('carbonscope.hapi-lookup.v1');

/** What of a hapi request naming reads: its public route and the Node request beneath it. */
interface HapiRequest {
  route?: { method?: unknown; path?: unknown };
  raw?: { req?: IncomingMessage };
}

type Lookup = ((this: HapiRequest, ...args: unknown[]) => unknown) & { [WRAPPED]?: true };

let installed = false;
/** hapi's lib/request.js where the application would find it; undefined: none, or wrapped. */
let requestFile: string | undefined;
/** The folder of that hapi's package; undefined: none resolves. */
let reachedPackage: string | undefined;

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
 * method is left alone, and its requests are `unmatched`. Only found here: wrapped by
 * nameHapiRoutesIfLoaded once the application loaded hapi, as loading it here cost an
 * application that has hapi installed 60 ms of each start, served by hapi or not.
 */
export function installHapiRoutes(): void {
  if (installed) return;
  installed = true;
  requestFile = appPackageFile('@hapi/hapi', join('lib', 'request.js'));
  if (requestFile) reachedPackage = dirname(dirname(requestFile));
  nameHapiRoutesIfLoaded();
}

/**
 * Wraps hapi's `_lookup` if the application loaded hapi by now. Asked as carbonscope loads and
 * at the first request of each server it tracks, before that request reaches hapi (the request
 * start is published before the server's `request` listeners run): one cache lookup each until
 * hapi is found.
 */
export function nameHapiRoutesIfLoaded(): void {
  if (requestFile === undefined) return;
  const request = loadedAppModule(requestFile) as { prototype?: { _lookup?: Lookup } } | undefined;
  if (request === undefined) return;
  requestFile = undefined;
  const proto = request.prototype;
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

/**
 * hapi's request listener (its core's `_dispatch()`, the same in hapi 20 and 21), inlined by a
 * bundler or not: minifiers rename its variables but keep the names of the two methods it calls
 * and of the option it reads. The option, hapi's own, tells it from another listener that calls
 * a generate() and an _execute(), names common enough (a job runner's) to warn falsely on.
 */
function hapiDispatch(listener: unknown): boolean {
  return callsMethods(listener, ['.generate(', '._execute()', '.cleanStop']);
}

/**
 * Says once when a server answers with hapi while the hapi installHapiRoutes reached is not
 * loaded, as for Koa: a bundler inlined hapi (whose Request is then a copy carbonscope cannot
 * wrap) or the app loaded another copy, and every request would be `unmatched` without a word.
 * Asked at a server's first request, after nameHapiRoutesIfLoaded.
 */
export const warnIfHapiUnreached = unreachedWarner(
  {
    serving: 'hapi server',
    pkg: '@hapi/hapi',
    file: join('lib', 'request.js'),
    code: 'CARBONSCOPE_HAPI_UNREACHED',
    serves: hapiDispatch,
  },
  () => reachedPackage,
);
