import type { IncomingMessage } from 'node:http';
import { lookUp } from '../look-up.js';
import { answeringMountOf, mountedTemplateOf, underMounts } from './express-mounts.js';

/** What Express's router leaves on a request it routed. */
interface ExpressFields {
  readonly route?: { readonly path?: unknown };
  readonly baseUrl?: unknown;
}

function textOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  // Joined as OTel's Express instrumentation joins them, so the two name the route alike.
  if (Array.isArray(path)) return path.map(textOf).join(',');
  return undefined;
}

/**
 * A RegExp's or an array's text, per route path object (one a route, weakly held): made per
 * request, a RegExp's String() cost ~400 ns and an array's join a new string each time.
 */
const texts = new WeakMap<object, string>();

/**
 * OTel's Express instrumentation makes each run of '/' in the route it joins one: a RegExp that
 * ends in `\/` (`/\/w\//`) is named `/\/w\/`. Done once per route, as its text is made and
 * kept: a request pays nothing for it.
 */
const SLASHES = /\/{2,}/g;

function pathOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (!(path instanceof RegExp) && !Array.isArray(path)) return undefined;
  let text = texts.get(path);
  if (text === undefined) {
    text = (textOf(path) ?? '').replace(SLASHES, '/');
    texts.set(path, text);
  }
  return text;
}

/**
 * The route template Express (4 and 5, and what is built on it, e.g. Nest) matched: `req.route`
 * under the templates of the routers it is mounted in. Read when the response finishes: a router
 * that handled the request never restores its baseUrl, so it still says what matched. baseUrl
 * itself is the client's text (`/API/v7` for `app.use('/api/:version', …)`), so the mounts are
 * read off the app's routers (Express 4's, whose layers keep no path, off their RegExps), as they
 * are for a route whose routers gave baseUrl back (its next(err) or next()); where they cannot
 * be, the route path stands alone.
 * Nothing of Express is patched. A request no route answered is named by the mount of the path
 * middleware that did, where that can be read (middlewareMountOf).
 */
export function expressRouteOf(req: IncomingMessage, plain = false): string | undefined {
  // Each Express request has a map of its own, so these reads go around V8's caches (lookUp).
  // `plain`: a request of Node's own shape (Express's router without its app, or no Express),
  // where a property it lacks, read around the caches, walks its prototypes (~40 ns a miss).
  const route = plain ? (req as ExpressFields).route : lookUp<ExpressFields['route']>(req, 'route');
  if (route === undefined) return middlewareMountOf(req, plain);
  const path = pathOf(route.path);
  if (path === undefined) return undefined;
  // Undefined once the app's own router gave it back (the request left it for the final 404).
  const baseUrl = (plain ? (req as ExpressFields).baseUrl : lookUp<unknown>(req, 'baseUrl')) ?? '';
  if (typeof baseUrl !== 'string') return underMounts('', path);
  return mountedTemplateOf(req, route, path, baseUrl);
}

/**
 * Where no route answered: the mount of the path middleware that did, if one under a mount did
 * (baseUrl non-empty). A request left for the final 404 has its baseUrl given back (undefined),
 * and one a root-mounted middleware answered has '': both stay unmatched, as OTel names neither.
 */
function middlewareMountOf(req: IncomingMessage, plain: boolean): string | undefined {
  const baseUrl = plain ? (req as ExpressFields).baseUrl : lookUp<unknown>(req, 'baseUrl');
  if (typeof baseUrl !== 'string' || baseUrl === '') return undefined;
  return answeringMountOf(req, baseUrl);
}
