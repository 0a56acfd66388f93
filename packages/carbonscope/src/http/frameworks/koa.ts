import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { setRoute } from '../route.js';
import { appPackageFile, loadedAppModule } from './app-module.js';
import { callsMethods, unreachedWarner } from './unreached.js';

const VALUE = Symbol('carbonscope.koa.matchedRoute');
/** What of a @koa/router layer naming reads: a route's layer has methods, a middleware's none. */
interface RouterLayer {
  path?: unknown;
  methods?: unknown;
}
type KoaContext = {
  req?: IncomingMessage;
  matched?: unknown;
  mountPath?: unknown;
  originalUrl?: unknown;
  path?: unknown;
  [VALUE]?: unknown;
};

/**
 * The koa-mount prefix the route lies under: koa-mount sets ctx.mountPath and gives downstream
 * the rest of the path as ctx.path, so @koa/router's template lacks the prefix (`/v2` and `/v3`
 * mounts of one router were both `/users/:id`). Only while ctx.path is that rest: koa-mount
 * leaves mountPath set as the request goes back up to the app's own routes. A mount inside a
 * mount sets only its own prefix: that rest is no suffix of the client's path, and no prefix
 * is added.
 */
function mountPrefixOf(ctx: KoaContext): string {
  const mount = ctx.mountPath;
  if (typeof mount !== 'string' || mount === '' || mount === '/') return '';
  const url = ctx.originalUrl;
  const path = ctx.path;
  if (typeof url !== 'string' || typeof path !== 'string') return '';
  const query = url.indexOf('?');
  const original = query === -1 ? url : url.slice(0, query);
  if (!original.startsWith(mount)) return '';
  return (original.slice(mount.length) || '/') === path ? mount.replace(/\/$/, '') : '';
}

/** A route's path as its label: a regex route's path is its RegExp, named as Express's are. */
function templateOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  return undefined;
}

/**
 * True when `path` is only a middleware's (`router.use(auth)`, under a prefix `/p(?:\/|$)`):
 * @koa/router writes each layer's path as the layer runs, after it wrote the matched route's,
 * and a middleware that answers (auth's 401) or calls a route that is none of this router's
 * would otherwise leave its own path as the request's route. `matched` holds this request's
 * layers; a path no layer there has (a write from elsewhere) stands.
 */
function middlewareOnly(matched: unknown, path: unknown): boolean {
  if (!Array.isArray(matched)) return false;
  let middleware = false;
  for (const layer of matched as RouterLayer[]) {
    if (layer?.path !== path) continue;
    if (Array.isArray(layer.methods) && layer.methods.length > 0) return false;
    middleware = true;
  }
  return middleware;
}

let installed = false;
/** Koa's lib/context.js where the application would find it; undefined: none, or reached. */
let contextFile: string | undefined;
/** The folder of that Koa's package; undefined: none resolves. */
let reachedPackage: string | undefined;

/**
 * @koa/router writes the matched template to `ctx._matchedRoute` (and each layer's path as the
 * layer runs: see middlewareOnly). Every Koa context inherits
 * from the module-level prototype in koa/lib/context.js, so an accessor there sees that write
 * (with the request at hand as `this.req`) for every Koa app of the process. Koa itself is not
 * imported for this: its context module is the one the application would load, the same module
 * instance it uses. Only found here: defined by nameKoaRoutesIfLoaded once the application
 * loaded Koa, as loading it here cost an application in whose folder koa resolves 15-19 ms
 * (21 modules) of each start, served by Koa or not.
 */
export function installKoaRoutes(): void {
  if (installed) return;
  installed = true;
  contextFile = appPackageFile('koa', join('lib', 'context.js'));
  if (contextFile) reachedPackage = dirname(dirname(contextFile));
  nameKoaRoutesIfLoaded();
}

/**
 * Defines the accessor if the application loaded Koa by now (an ESM import of Koa too: its
 * ESM wrapper loads lib/application.js through require). Asked as carbonscope loads and at the
 * first request of each server it tracks, before that request reaches Koa: one cache lookup
 * each until Koa is found. Accessors on a prototype are found by contexts made before it.
 */
export function nameKoaRoutesIfLoaded(): void {
  if (contextFile === undefined) return;
  const proto = loadedAppModule(contextFile);
  if (proto === undefined) return;
  contextFile = undefined;
  if (typeof proto !== 'object' || proto === null) return;
  if (Object.getOwnPropertyDescriptor(proto, '_matchedRoute')) return;
  Object.defineProperty(proto, '_matchedRoute', {
    configurable: true,
    enumerable: false,
    get(this: KoaContext) {
      return this[VALUE];
    },
    set(this: KoaContext, route: unknown) {
      this[VALUE] = route;
      const template = templateOf(route);
      if (template === undefined || !this.req || middlewareOnly(this.matched, route)) return;
      setRoute(this.req, mountPrefixOf(this) + template);
    },
  });
}

/**
 * Koa's request listener (app.callback()), inlined by a bundler or not: minifiers rename its
 * variables but keep the names of the two methods it calls.
 */
function koaCallback(listener: unknown): boolean {
  return callsMethods(listener, ['.createContext(', '.handleRequest(']);
}

/** A Koa whose context module require can load: lib/context.js there, in a CommonJS package. */
function commonJsKoa(folder: string): boolean {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'type' in pkg && pkg.type === 'module') {
      return false;
    }
    readFileSync(join(folder, 'lib', 'context.js'));
    return true;
  } catch {
    return false;
  }
}

/** A resolved koa with no CommonJS context (ESM only): keeping it external changes nothing. */
function esmOnlyCause(folder: string, unmatched: string): string | undefined {
  if (commonJsKoa(folder)) return undefined;
  return (
    `, but the koa at ${folder} has no CommonJS lib/context.js for carbonscope to read ` +
    `route templates from (an ESM-only Koa?): ${unmatched} carbonscope names the routes of ` +
    'CommonJS Koa only.'
  );
}

/**
 * Says once when a server answers with a Koa app while the Koa installKoaRoutes reached is not
 * loaded, with the cause it can tell (a bundler inlined Koa, whose context is then a copy
 * carbonscope cannot see; another copy; an ESM-only Koa): else every request of the app would
 * be `unmatched` without a word. Asked at a server's first request.
 */
export const warnIfKoaUnreached = unreachedWarner(
  {
    serving: 'Koa app',
    pkg: 'koa',
    file: join('lib', 'application.js'),
    code: 'CARBONSCOPE_KOA_UNREACHED',
    serves: koaCallback,
    installedCause: esmOnlyCause,
  },
  () => reachedPackage,
);
