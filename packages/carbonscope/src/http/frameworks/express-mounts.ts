import { lookUp } from '../look-up.js';
import { appsOf, isAppOf, routerStackOf } from './express-apps.js';
import { express4Match, express4Pattern, express4Patterns } from './express4-layers.js';

/**
 * What of an Express layer the walk reads (router 2.3+'s, or Express 4's RegExp and keys, read
 * in express4-layers); anything else is left alone.
 */
interface MountLayer {
  handle?: { stack?: unknown; name?: unknown; length?: unknown };
  name?: unknown;
  route?: unknown;
  match?: (path: string) => unknown;
  rawPath?: unknown;
}

interface Matched {
  path: string;
  pattern: unknown;
}

/** Routers nested deeper than this are not walked: the request keeps no mount template. */
const MAX_DEPTH = 16;
/**
 * Mount paths (a parameter's values as sent) remembered per route; past it a new one takes the
 * place of the oldest, so the values in use now are the cached ones, not the first 64 ever seen.
 */
const MAX_CACHED = 64;
/**
 * Keys (a path as sent) longer than this are walked each time, never kept: 64 URLs near Node's
 * 16 KB header limit held ~1 MB per route, and a mount's text in use is far shorter.
 */
const MAX_CACHED_KEY = 256;

const cache = new WeakMap<object, Map<string, string | null>>();
/**
 * The last answer `cache` gave (its route, baseUrl and name): a server's requests mostly repeat
 * the one before's route under the same mounts, and two comparisons are cheaper than the weak
 * map's and the map's lookups, ~0.2 µs of a request's end under Express (perf). It holds one
 * route strongly, until a request of another route or baseUrl replaces it. Never written per
 * request: a request that repeats it allocates nothing, one that does not writes three fields.
 */
const last: { route: object | undefined; baseUrl: string; name: string } = {
  route: undefined,
  baseUrl: '',
  name: '',
};

function keepLast(route: object, baseUrl: string, name: string): void {
  last.route = route;
  last.baseUrl = baseUrl;
  last.name = name;
}

function forgetLast(): void {
  last.route = undefined;
}
/**
 * Per route, what a request it passed on is named (`names`; see Holds): the one chain of mounts
 * that leads to it joined with its path, PER_PATH where more than one does (a router mounted
 * twice: the path says which it came through) and those are walked per path, in `perPath`. Kept
 * apart from `cache`, so that passed-on requests with ids of their own (`/users/1`, …) neither
 * walk each nor push out the entries the route's answered requests hit.
 */
interface PassedOn {
  readonly names: WeakMap<object, string>;
  readonly perPath: WeakMap<object, Map<string, string | null>>;
}
/**
 * A PassedOn per app the request ended in (req.app, whose parents are the apps it is mounted
 * in): one router given to two apps (`a1.use('/:t', r)`, `a2.use('/acme', r)`) is one route
 * object under two chains of mounts, and its passed-on requests took the first app's name (a1's
 * `/x/boom` was `/acme/boom`). Read for a passed-on request alone: an answered one's name, in
 * `cache` and `last`, stays per route and baseUrl, as the app read and compared there would cost
 * every request (the README's limit).
 */
const passedOnIn = new WeakMap<object, PassedOn>();
/** A request with no app to key by (Express's router without its app). */
const noApp: PassedOn = { names: new WeakMap(), perPath: new WeakMap() };

function passedOnOf(req: object): PassedOn {
  const app = lookUp<unknown>(req, 'app');
  if ((typeof app !== 'function' && typeof app !== 'object') || app === null) return noApp;
  let held = passedOnIn.get(app);
  if (held === undefined) {
    held = { names: new WeakMap(), perPath: new WeakMap() };
    passedOnIn.set(app, held);
  }
  return held;
}
/** Not a template: a template starts with '/', a RegExp's text too, or is empty. */
const PER_PATH = '?';
/**
 * Not a template either: the mounts that lead to the route include one whose template cannot be
 * read (an Express 4 path not rebuilt exactly): the route's own path stands alone.
 */
const UNREADABLE = '!';
/**
 * Not a template: the route is under no mount the walk can enter, so it may be a mounted app's
 * that its request left (the app's stack is out of reach: see underMountedApp), walked per path.
 */
const IN_MOUNTED_APP = '&';
/**
 * Routes whose app has no router stack to walk (no `_router`, and an `app.router` that throws):
 * asked once, not again per path (a throw each costs microseconds).
 */
const unwalkable = new WeakSet<object>();

function templateOf(pattern: unknown): string | undefined {
  if (typeof pattern === 'string') return pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
  if (pattern instanceof RegExp) return String(pattern);
  return undefined;
}

function matched(layer: MountLayer, rest: string): Matched | undefined {
  if (!('rawPath' in layer)) {
    const path = express4Match(layer, rest);
    return path === undefined ? undefined : { path, pattern: express4Pattern(layer, rest) };
  }
  if (typeof layer.match !== 'function') return undefined;
  let m: Partial<Matched> | boolean | undefined;
  try {
    m = layer.match(rest) as Partial<Matched> | boolean | undefined;
  } catch {
    // A parameter's value that does not decode (`/:x` on `/raw%E0`, a text a RegExp mount before
    // it answered): Express skips such a layer too, and a throw here, read on finish, would be
    // the process's uncaught exception.
    return undefined;
  }
  if (typeof m !== 'object' || m === null || typeof m.path !== 'string') return undefined;
  return { path: m.path, pattern: m.pattern };
}

/**
 * Where `layer` is a mount that matches the start of `rest`: its template ('' for a root mount,
 * to glue; UNREADABLE where it cannot be read) and what of `rest` is left below it. One rule for
 * both walks, a route's and an answering middleware's.
 */
function mountStep(
  layer: MountLayer,
  rest: string,
): { template: string; left: string } | undefined {
  const m = matched(layer, rest);
  if (!m) return undefined;
  const removed = m.path.endsWith('/') ? m.path.slice(0, -1) : m.path;
  if (!rest.startsWith(removed)) return undefined;
  const template = templateOf(m.pattern) ?? UNREADABLE;
  return { template: template === '/' ? '' : template, left: rest.slice(removed.length) };
}

/** The path an Express layer (a route's too) matches at the start of `rest`, if it does. */
function matchedPath(layer: MountLayer, rest: string): string | undefined {
  return 'rawPath' in layer ? matched(layer, rest)?.path : express4Match(layer, rest);
}

/**
 * The stack of the app the walk enters next through a mounted sub-app, or an app given to a
 * router (its layer's handle is the app), if that is this layer.
 */
function subAppStack(layer: MountLayer, apps: readonly object[], at: number): unknown {
  if (at + 1 >= apps.length) return undefined;
  const below = routerStackOf(apps[at + 1] as object);
  // The layer's name, kept as it was made: OTel's Express instrumentation wraps its handle in a
  // function of another name (`patched`), whose properties (a router's stack) it passes through.
  const name = layer.name ?? layer.handle?.name;
  return name === 'mounted_app' || isAppOf(layer.handle, below) ? below : undefined;
}

/**
 * How a walk knows the stack that holds the route. While the route's routers still hold the
 * request its baseUrl is all mounts: nothing is left. Each router gives its part of baseUrl
 * back as the request leaves it (the route's next(err) to the app's error handler, its next() to
 * the final 404), and then the route's layer matches what is left of the path.
 */
type Holds = (stack: readonly MountLayer[], rest: string, route: object) => boolean;

const handledHere: Holds = (stack, rest, route) =>
  rest === '' && stack.some((l) => l?.route === route);

const passedOn: Holds = (stack, rest, route) =>
  stack.some((l) => l?.route === route && matchedPath(l, rest) !== undefined);

/** A route whose router kept text of baseUrl below it: mounts it passed the request on to. */
const heldAbove: Holds = (stack, rest, route) =>
  rest !== '' && stack.some((l) => l?.route === route);

/**
 * The mount templates that lead from `stack` down `rest` (a part of req.baseUrl) to the stack
 * that holds `route`, joined; undefined when no chain of mounts does.
 */
function walk(
  stack: unknown,
  rest: string,
  route: object,
  holds: Holds,
  apps: readonly object[],
  at: number,
  depth: number,
): string | undefined {
  if (!Array.isArray(stack) || depth > MAX_DEPTH) return undefined;
  if (at === apps.length - 1 && holds(stack, rest, route)) return '';
  for (const layer of stack as MountLayer[]) {
    if (layer?.route !== undefined) continue;
    const inner = Array.isArray(layer?.handle?.stack) ? layer.handle.stack : undefined;
    const next = inner === undefined ? subAppStack(layer, apps, at) : undefined;
    if (inner === undefined && next === undefined) continue;
    const step = mountStep(layer, rest);
    if (!step) continue;
    const atBelow = inner === undefined ? at + 1 : at;
    const below = walk(inner ?? next, step.left, route, holds, apps, atBelow, depth + 1);
    if (below !== undefined) return under(step.template, below);
  }
  return undefined;
}

/**
 * `path` (req.route's) under the templates of the mounts (`app.use('/api/:version', router)`)
 * whose matched text is `baseUrl`, read off the app's routers; `path` alone where no walk finds
 * them or one cannot be read (router before 2.3 keeps no pattern; an Express 4 mount whose path
 * is not read back off its RegExp: express4-layers). baseUrl is the client's
 * text: its parameters' values and, Express matching without regard to case, its letters as
 * sent, so it is no label. Where the request has left the route's routers (baseUrl given back:
 * see Holds), it is named by the one chain of mounts that leads to its route, found once per
 * route; only where several do (a router mounted twice) is the path walked, as above. The joined
 * template is what is cached, and no closure is made: a request that hits the cache allocates
 * nothing (but the key of a path walked per path).
 */
export function mountedTemplateOf(
  req: object,
  route: object,
  path: string,
  baseUrl: string,
): string {
  if (route === last.route && baseUrl === last.baseUrl) return last.name;
  let known = cache.get(route);
  if (known === undefined) {
    known = new Map<string, string | null>();
    cache.set(route, known);
  }
  let inRouter = known.get(baseUrl);
  if (inRouter === undefined) {
    inRouter =
      joined(walkFrom(req, route, baseUrl, handledHere), path) ??
      answeredAfter(req, route, baseUrl);
    remember(known, baseUrl, inRouter);
  }
  if (inRouter !== null) {
    // Only an answer the cache keeps: a long baseUrl is walked each time, as before.
    if (baseUrl.length <= MAX_CACHED_KEY) keepLast(route, baseUrl, inRouter);
    return inRouter;
  }
  if (unwalkable.has(route)) return underMounts('', path);
  const held = passedOnOf(req);
  let name = held.names.get(route);
  if (name === undefined) {
    name = nameWhenPassedOn(req, route, path);
    held.names.set(route, name);
  }
  if (name === PER_PATH) return walkedPerPath(req, route, path, baseUrl, held, throughMounts);
  if (name === IN_MOUNTED_APP) {
    return walkedPerPath(req, route, path, baseUrl, held, underMountedApp);
  }
  return name;
}

/**
 * The name of every request `route` passes on, or where the path must say: PER_PATH (several
 * chains lead to it), IN_MOUNTED_APP (none does).
 */
function nameWhenPassedOn(req: object, route: object, path: string): string {
  const apps = appsFor(req);
  const stack = apps.length > 0 ? routerStackOf(apps[0] as object) : undefined;
  if (!Array.isArray(stack)) return path;
  const mounts = soleChain(stack, route, apps, 0, 0, new Map());
  if (mounts === SEVERAL) return PER_PATH;
  if (mounts === undefined) return IN_MOUNTED_APP;
  return underMounts(mounts === UNREADABLE ? '' : mounts, path);
}

/** The mounts of `route` below the request's app for the whole `path` (baseUrl + url). */
type PathWalk = (req: object, route: object, path: string) => string | undefined;

const throughMounts: PathWalk = (req, route, path) => walkFrom(req, route, path, passedOn);

function walkedPerPath(
  req: object,
  route: object,
  path: string,
  baseUrl: string,
  held: PassedOn,
  walkPath: PathWalk,
): string {
  const rest = pathnameOf(req);
  if (rest === undefined) return underMounts('', path);
  let known = held.perPath.get(route);
  if (known === undefined) {
    known = new Map<string, string | null>();
    held.perPath.set(route, known);
  }
  // The app the request ended in is part of the key (its baseUrl, apart: no path has a '?'): one
  // path's request an outer app answered and one it let out are walked from different apps. The
  // top app's ('') adds nothing: the key is req.url's path itself, no string made.
  const key = baseUrl === '' ? rest : `${baseUrl}?${rest}`;
  let left = known.get(key);
  if (left === undefined) {
    left = joined(walkPath(req, route, baseUrl + rest), path);
    remember(known, key, left);
  }
  return left ?? underMounts('', path);
}

/** More than one chain of mounts leads to the route. */
const SEVERAL = null;
type Chains = string | typeof SEVERAL | undefined;

/** `found` with one more chain, `mounts`, counted in. */
function plusChain(found: Chains, mounts: Chains): Chains {
  return found === undefined ? mounts : SEVERAL;
}

/**
 * The mount templates of the one chain of mounts from `stack` down to the stack that holds
 * `route`, joined; undefined where none does, SEVERAL where more than one does or a mount on it
 * has several templates (an array: the path says which), UNREADABLE where one's cannot be read.
 * Read off the routers' layers alone, whatever path: a request the route passed on came down one
 * of these chains. `seen` holds each stack's answer (a router used in many places is counted
 * once per place, not walked once per place it could lead from).
 */
function soleChain(
  stack: unknown,
  route: object,
  apps: readonly object[],
  at: number,
  depth: number,
  seen: Map<unknown, Chains>,
): Chains {
  if (!Array.isArray(stack) || depth > MAX_DEPTH) return undefined;
  if (seen.has(stack)) return seen.get(stack);
  // A router mounted inside itself leads nowhere new.
  seen.set(stack, undefined);
  let found: Chains =
    at === apps.length - 1 && stack.some((l) => l?.route === route) ? '' : undefined;
  for (const layer of stack as MountLayer[]) {
    if (found === SEVERAL) break;
    if (layer?.route !== undefined) continue;
    const inner = Array.isArray(layer?.handle?.stack) ? layer.handle.stack : undefined;
    const next = inner === undefined ? subAppStack(layer, apps, at) : undefined;
    if (inner === undefined && next === undefined) continue;
    const atBelow = inner === undefined ? at + 1 : at;
    const below = soleChain(inner ?? next, route, apps, atBelow, depth + 1, seen);
    if (below === undefined) continue;
    const template = chainTemplateOf(layer);
    const mounts = template === undefined || below === SEVERAL ? SEVERAL : under(template, below);
    found = plusChain(found, mounts);
  }
  seen.set(stack, found);
  return found;
}

/**
 * A mount's one template, whatever path it is matched with; undefined where it has several (an
 * array: the path says which), UNREADABLE where it cannot be read.
 */
function chainTemplateOf(layer: MountLayer): string | undefined {
  if ('rawPath' in layer) return templateOf(layer.rawPath);
  const patterns = express4Patterns(layer);
  if (patterns.length > 1) return undefined;
  const template = templateOf(patterns[0]) ?? UNREADABLE;
  return template === '/' ? '' : template;
}

function joined(mounts: string | undefined, path: string): string | null {
  if (mounts === undefined) return null;
  return underMounts(mounts === UNREADABLE ? '' : mounts, path);
}

/** `below` under a mount's `template`; UNREADABLE where either is. */
function under(template: string, below: string): string {
  return template === UNREADABLE || below === UNREADABLE ? UNREADABLE : glued(template, below);
}

/**
 * `path` under `mounts`, as OTel's Express instrumentation joins them: a mounted router's `/`
 * route is the mount alone (`/users`, which `/users/` matches too, not a name of its own), and
 * `app.get('')` is `/`, never an empty label.
 */
export function underMounts(mounts: string, path: string): string {
  if (mounts === '') return path === '' ? '/' : path;
  return path === '/' || path === '' ? mounts : glued(mounts, path);
}

/**
 * `a` then `b`, one '/' between: a RegExp mount's text ends with its own '/' (`/^\/v\d+/`),
 * and the template below starts with one (`/^\/v\d+//:x` otherwise; OTel's is `/^\/v\d+/:x`).
 */
function glued(a: string, b: string): string {
  return a.endsWith('/') && b.startsWith('/') ? a + b.slice(1) : a + b;
}

/** req.url without its query: below baseUrl, the path as Express routes it. */
function pathnameOf(req: object): string | undefined {
  const url = lookUp<unknown>(req, 'url');
  if (typeof url !== 'string') return undefined;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Keeps a walk's answer for `key`, null where it found no mounts; a long key is not kept. */
function remember(known: Map<string, string | null>, key: string, template: string | null): void {
  if (key.length > MAX_CACHED_KEY) return;
  // A Map iterates in insertion order: its first key is the oldest. Only a miss pays this (it
  // has walked already); a hit is one get.
  if (known.size >= MAX_CACHED) {
    known.delete(known.keys().next().value as string);
    // The entry let go may be the last answer's: a later request of it walks again, as before.
    forgetLast();
  }
  known.set(key, template);
}

function appsFor(req: object): object[] {
  const app = lookUp<object>(req, 'app');
  return typeof app === 'function' || (typeof app === 'object' && app !== null)
    ? appsOf(req, app)
    : [];
}

function walkFrom(req: object, route: object, rest: string, holds: Holds): string | undefined {
  const apps = appsFor(req);
  const stack = apps.length > 0 ? routerStackOf(apps[0] as object) : undefined;
  if (!Array.isArray(stack)) {
    unwalkable.add(route);
    return undefined;
  }
  return walk(stack, rest, route, holds, apps, 0, 0);
}

/**
 * Per app a request ended in, what an answer from path middleware under each baseUrl (as sent)
 * is named: its mount template, null where none or several could be. Bounded as `cache` is.
 */
const answeredUnder = new WeakMap<object, Map<string, string | null>>();
/** Apps whose router cannot be walked: asked once, as `unwalkable` is per route. */
const unwalkableApps = new WeakSet<object>();

/**
 * The mount template of the path middleware (`app.use('/health', fn)`, `express.static` at
 * `/static`, a proxy at `/api`) that answered a request, Express having left it `baseUrl` (a
 * middleware that answers never calls next(), which would give it back): read off the routers'
 * layers, as a route's mounts are. Undefined where a mount's template cannot be read, or
 * where two mounts of different templates match the text (`/:tenant` and `/health`), since
 * which of them answered is nowhere left to read.
 */
export function answeringMountOf(req: object, baseUrl: string): string | undefined {
  const app = lookUp<object>(req, 'app');
  if ((typeof app !== 'function' && typeof app !== 'object') || app === null) return undefined;
  if (unwalkableApps.has(app)) return undefined;
  let known = answeredUnder.get(app);
  if (known === undefined) {
    known = new Map<string, string | null>();
    answeredUnder.set(app, known);
  }
  let name = known.get(baseUrl);
  if (name === undefined) {
    const apps = appsOf(req, app);
    const stack = routerStackOf(apps[0] as object);
    if (!Array.isArray(stack)) {
      unwalkableApps.add(app);
      return undefined;
    }
    name = soleEnd(stack, baseUrl, apps, answeringMiddleware, undefined) ?? null;
    remember(known, baseUrl, name);
  }
  return name ?? undefined;
}

/**
 * A request its route passed on with next() that path middleware below the route's router
 * answered (`app.get('/files/:id', …)`, then `app.use('/files', static)`): Express leaves
 * req.route the route and baseUrl the middleware's mount, which names it, as OTel names it. Null
 * where the route is in no router that baseUrl's mounts pass with text left over (it is below
 * them: its router gave its part back, and a handler above answered), or no one mount matches.
 * Null too where an error handler's mount matches all of baseUrl: the request may be the route's
 * error that it answered (OTel keeps the route's name), with the same req.route and baseUrl as a
 * next() that middleware or a router at that mount answered, and nothing left says which.
 * Its name is kept with the route's answered ones: an answered request pays nothing for it.
 */
function answeredAfter(req: object, route: object, baseUrl: string): string | null {
  if (baseUrl === '' || walkFrom(req, route, baseUrl, heldAbove) === undefined) return null;
  const apps = appsFor(req);
  const stack = routerStackOf(apps[0] as object);
  if (endsWalked(stack, baseUrl, apps, errorHandlerAt, undefined).only !== undefined) return null;
  return soleEnd(stack, baseUrl, apps, answeringMiddleware, undefined) ?? null;
}

/**
 * The mounts of a route of a mounted app (`app.use('/sub', subApp)`) whose request left that
 * app (its next(err), throw, or next() to the final 404): Express has put back the parent's
 * request (req.app, baseUrl), and the parent's layer is a closure with no link to the app. So
 * they are inferred: where exactly one mounted app out of reach matches the start of `path`
 * (baseUrl + url, as the request's apps route it) and the route's own pattern, made into a
 * Layer by that layer's constructor, matches all that is left below it, the route is that app's.
 * An app mounted at the root starts every path: it counts only where the route's pattern matches
 * below it too. Undefined otherwise (two apps at one mount, an app mounted in one that both let
 * the request out): the route's path stands alone, as it did before.
 */
const underMountedApp: PathWalk = (req, route, path) => {
  const apps = appsFor(req);
  const stack = apps.length > 0 ? routerStackOf(apps[0] as object) : undefined;
  return soleEnd(stack, path, apps, mountedAppOfRoute, route);
};

/**
 * What a walk down the mounts to the layer a request ended in (no route: a path middleware that
 * answered, a mounted app it left) looks for there, where the walk is in the request's app. One
 * constant per kind of walk: a walk step makes nothing for it.
 */
interface EndLayer {
  /** Whether `layer`, which the walk cannot enter, may be one: its mount is not matched else. */
  readonly outOfReach: (layer: MountLayer) => boolean;
  /** Whether `layer`, whose mount left `left` below it, is one; `route` is the walk's. */
  readonly ends: (
    layer: MountLayer,
    left: string,
    enterable: boolean,
    route: object | undefined,
  ) => boolean;
  /** Two chains of one template are one answer (a path mounted twice says the same). */
  readonly distinct: boolean;
}

/**
 * A path middleware that answered: any layer whose mount's matched text is all that is left. A
 * root mount adds nothing: the static files of `app.use(static)` match no chain, as OTel names
 * them no route.
 */
const answeringMiddleware: EndLayer = {
  outOfReach: () => true,
  ends: (_layer, left) => left === '',
  distinct: true,
};

/**
 * An error handler whose mount's matched text is all that is left: one that may have answered a
 * route's error, which keeps the route's name, as OTel (which wraps no error handler) names it.
 */
const errorHandlerAt: EndLayer = {
  outOfReach: isErrorHandler,
  ends: (_layer, left, enterable) => left === '' && !enterable,
  distinct: true,
};

function isErrorHandler(layer: MountLayer): boolean {
  return layer.handle?.length === 4;
}

/**
 * A mounted app the walk cannot enter (below the request's app) whose mount matches the start
 * of the path and where the route's own pattern matches what is left below it.
 */
const mountedAppOfRoute: EndLayer = {
  outOfReach: isMountedApp,
  ends: (layer, left, enterable, route) =>
    !enterable && route !== undefined && routeMatches(layer, route, left),
  distinct: false,
};

/** One walk of `endsMatching`: what it looks for, and the one chain found so far. */
interface EndWalk {
  readonly end: EndLayer;
  readonly apps: readonly object[];
  readonly route: object | undefined;
  only: string | undefined;
  several: boolean;
}

/**
 * The joined templates of the one chain of mounts from `stack` down `rest` to a layer that
 * `end` says the request ended in; undefined where none, several, or one that cannot be read.
 */
function soleEnd(
  stack: unknown,
  rest: string,
  apps: readonly object[],
  end: EndLayer,
  route: object | undefined,
): string | undefined {
  const w = endsWalked(stack, rest, apps, end, route);
  return w.several || w.only === UNREADABLE ? undefined : w.only;
}

/** The walk of `endsMatching` from `stack` down `rest`, done: its first chain and whether more. */
function endsWalked(
  stack: unknown,
  rest: string,
  apps: readonly object[],
  end: EndLayer,
  route: object | undefined,
): EndWalk {
  const w: EndWalk = { end, apps, route, only: undefined, several: false };
  endsMatching(stack, rest, 0, 0, '', w);
  return w;
}

/**
 * Counts in `w` each chain of mounts from `stack` down `rest` that ends, in the request's app
 * (the last of `apps`), in a layer `w.end` accepts, with the templates `above` it; stops at a
 * second.
 */
function endsMatching(
  stack: unknown,
  rest: string,
  at: number,
  depth: number,
  above: string,
  w: EndWalk,
): void {
  if (!Array.isArray(stack) || depth > MAX_DEPTH) return;
  const inApp = at === w.apps.length - 1;
  for (const layer of stack as MountLayer[]) {
    if (w.several) return;
    if (layer?.route !== undefined) continue;
    const inner = Array.isArray(layer?.handle?.stack) ? layer.handle.stack : undefined;
    const next = inner === undefined ? subAppStack(layer, w.apps, at) : undefined;
    const enterable = inner !== undefined || next !== undefined;
    if (!enterable && !(inApp && w.end.outOfReach(layer))) continue;
    const step = mountStep(layer, rest);
    if (!step) continue;
    const mounts = under(above, step.template);
    if (inApp && w.end.ends(layer, step.left, enterable, w.route)) endFound(w, mounts);
    if (!enterable) continue;
    const atBelow = inner === undefined ? at + 1 : at;
    endsMatching(inner ?? next, step.left, atBelow, depth + 1, mounts, w);
  }
}

function endFound(w: EndWalk, mounts: string): void {
  if (w.only === undefined) w.only = mounts;
  else if (!w.end.distinct || w.only !== mounts) w.several = true;
}

function isMountedApp(layer: MountLayer): boolean {
  return (layer.name ?? layer.handle?.name) === 'mounted_app';
}

interface Matcher {
  match(path: string): unknown;
}

/**
 * Per route, its pattern made into a Layer (null where none could be): made once, by the first
 * mount layer's constructor, and matched against each path walked. The layer is ours: what its
 * match() writes onto it no request shares.
 */
const routeLayers = new WeakMap<object, Matcher | null>();

function noop(): void {}

/** True where `route`'s own pattern matches all of `left`, as the mounted app's router would. */
function routeMatches(mount: MountLayer, route: object, left: string): boolean {
  let layer = routeLayers.get(route);
  if (layer === undefined) {
    layer = routeLayerOf(mount, lookUp<unknown>(route, 'path'));
    routeLayers.set(route, layer);
  }
  try {
    // Express 4's Layer answers true; router 2.3's (Express 5) the match, false where none. Both
    // routers route below a mount with a leading '/' (the mount's own path is `/` to its app).
    const m = layer?.match(left.startsWith('/') ? left : `/${left}`);
    return m === true || (typeof m === 'object' && m !== null);
  } catch {
    // A parameter's value that does not decode: Express's router would not have matched it.
    return false;
  }
}

function routeLayerOf(mount: MountLayer, path: unknown): Matcher | null {
  const Layer = Object.getPrototypeOf(mount)?.constructor as unknown;
  if (typeof Layer !== 'function' || path === undefined) return null;
  try {
    const made = new (Layer as new (...a: unknown[]) => Partial<Matcher>)(
      path,
      { sensitive: false, strict: false, end: true },
      noop,
    );
    return typeof made.match === 'function' ? (made as Matcher) : null;
  } catch {
    return null;
  }
}
