import { EventEmitter } from 'node:events';
import { lookUp } from '../look-up.js';

/** Apps and routers nested deeper than this are not followed. */
const MAX_DEPTH = 16;

/**
 * An app's router stack: Express 4's `_router`, else Express 5's `router`. Express 4's
 * `app.router` is a getter that throws (a 3.x relic), and a read from Node's finish channel that
 * throws is the process's uncaught exception: an app whose router cannot be read has no mounts
 * to walk.
 */
export function routerStackOf(app: object): unknown {
  const router4 = lookUp<{ stack?: unknown }>(app, '_router');
  if (router4 !== undefined && router4 !== null) return router4.stack;
  try {
    return lookUp<{ stack?: unknown }>(app, 'router')?.stack;
  } catch {
    return undefined;
  }
}

/**
 * The request's app and the apps it is mounted in, outermost first; above them, the app its
 * server hands requests to where that app gave the outermost to a router (`router.use('/sub',
 * app)`): Express does not mount such an app (no `parent`), and never puts back the request it
 * took, so the app is the request's to its end.
 */
export function appsOf(req: object, app: object): object[] {
  const apps: object[] = [];
  for (let a: object | undefined = app; a && apps.length < MAX_DEPTH; ) {
    apps.unshift(a);
    a = lookUp<object>(a, 'parent');
  }
  const outer = givenIn(req, apps[0] as object);
  if (outer !== undefined) apps.unshift(outer);
  return apps;
}

/**
 * Per server, per outermost app, the app that gave it to a router (null: none found). Per
 * server, as one app may be the listener of one server and given to a router of another's: a
 * giver found through one server is not the other's requests' (that app's own routes there are
 * named by their paths, as OTel names them). Weakly held: nothing is kept once a server is gone.
 */
const givers = new WeakMap<EventEmitter, WeakMap<object, object | null>>();

/**
 * The Express app listening on the request's server (its `request` listener itself: `app.listen`,
 * `createServer(app)`) whose routers hold `app` as a layer's handle; none where a function of the
 * application's own is the listener, as nothing else leads from the request to that app. Asked
 * once per server and app, on a walk: a request whose name is kept never asks. Not kept where
 * the server could not be read (an HTTP/2 request's socket, gone), so a later walk asks again.
 */
function givenIn(req: object, app: object): object | undefined {
  const server = serverOf(req);
  if (server === undefined) return undefined;
  let known = givers.get(server);
  if (known === undefined) {
    known = new WeakMap();
    givers.set(server, known);
  }
  let giver = known.get(app);
  if (giver === undefined) {
    giver = listeningGiver(server, app) ?? null;
    known.set(app, giver);
  }
  return giver ?? undefined;
}

function serverOf(req: object): EventEmitter | undefined {
  try {
    const socket = lookUp<unknown>(req, 'socket');
    if (typeof socket !== 'object' || socket === null) return undefined;
    const server = lookUp<unknown>(socket, 'server');
    return server instanceof EventEmitter ? server : undefined;
  } catch {
    // HTTP/2's compatibility socket throws once its session's socket is gone; a throw here, read
    // on finish, would be the process's uncaught exception.
    return undefined;
  }
}

function listeningGiver(server: EventEmitter, app: object): object | undefined {
  const target = routerStackOf(app);
  if (!Array.isArray(target)) return undefined;
  for (const listener of server.listeners('request')) {
    if (listener === app) return undefined;
    if (holds(listener, target)) return listener;
  }
  return undefined;
}

/**
 * Whether `listener` is an app whose routers hold `target`. Any listener of the server's is read,
 * another library's among them: one that throws as it is read (a proxy, a getter) holds nothing,
 * as a throw here, on the request's finish, would be the process's uncaught exception.
 */
function holds(listener: unknown, target: readonly unknown[]): boolean {
  try {
    return holdsApp(routerStackOf(listener as object), target, 0, new Set());
  } catch {
    return false;
  }
}

/**
 * Whether a layer of `stack`, or of a router below it, has the app of `target` as its handle.
 * Each stack is looked through once (`seen`): a router used in many places, or in itself (`r.use(
 * '/x', r)`), would otherwise be walked once per way down to it (3 self-mounts: 2 s, 16 deep).
 */
function holdsApp(
  stack: unknown,
  target: readonly unknown[],
  depth: number,
  seen: Set<unknown>,
): boolean {
  if (!Array.isArray(stack) || depth > MAX_DEPTH || seen.has(stack)) return false;
  seen.add(stack);
  for (const layer of stack as Array<{ route?: unknown; handle?: unknown }>) {
    if (layer?.route !== undefined || typeof layer?.handle !== 'function') continue;
    const inner = lookUp<unknown>(layer.handle, 'stack');
    if (
      Array.isArray(inner)
        ? holdsApp(inner, target, depth + 1, seen)
        : isAppOf(layer.handle, target)
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Whether `handle` is the app whose router stack is `target`, or OTel's wrapper of it (which
 * passes the app's properties through): the one test of an app given to a router.
 */
export function isAppOf(handle: unknown, target: unknown): boolean {
  return typeof handle === 'function' && target !== undefined && routerStackOf(handle) === target;
}
