import { join, sep } from 'node:path';
import {
  appLookupFolders,
  appPackageFolder,
  loadedAppModule,
  loadedAppModulesEndingWith,
} from './app-module.js';

/**
 * A framework whose route templates carbonscope reads from the copy the application's folder
 * resolves: a copy it cannot see (inlined by a bundler, or another install) names none.
 */
export interface ReachedFramework {
  /** What serves, as the warning says it: `Koa app`, `hapi server`. */
  readonly serving: string;
  /** Its package's name: `koa`, `@hapi/hapi`. */
  readonly pkg: string;
  /** The file in its package whose loading means the copy reached serves (`lib/request.js`). */
  readonly file: string;
  /** The process warning's code. */
  readonly code: string;
  /** Whether a server's `request` listener is the framework's, inlined and minified or not. */
  serves(listener: unknown): boolean;
  /** A cause of the framework's own for the copy installed at `folder`, if it has one. */
  installedCause?(folder: string, unmatched: string): string | undefined;
}

/** What a request's start is asked about: a Node server, or whatever else publishes there. */
export interface ListeningServer {
  listeners(event: 'request'): unknown[];
}

const UNMATCHED = "its requests are counted as 'unmatched'.";

/** Where carbonscope looked for a framework, for a warning: the entry script's folder, the cwd. */
function lookedIn(): string {
  const { entry, cwd } = appLookupFolders();
  return entry ? `the entry script's folder (${entry}) or the cwd (${cwd})` : `the cwd (${cwd})`;
}

/**
 * The warning's text after "a Koa app serves requests" (or "a hapi server …"): why the copy
 * serving is not the one reached, as far as the process tells. Another copy in require's cache
 * (a monorepo's workspace the entry's folder and the cwd do not resolve), a cause of the
 * framework's own, none resolved, or the resolved one unloaded (a bundler inlined it). Only when
 * the warning is said: it reads the disk and walks the cache.
 */
function unreachedCause(framework: ReachedFramework, reachedPackage: string | undefined): string {
  const { pkg } = framework;
  const keepExternal = `Keep ${pkg} out of the bundle (esbuild --external:${pkg}) and installed beside it`;
  const reachedFile = reachedPackage && join(reachedPackage, framework.file);
  const copies = loadedAppModulesEndingWith(join(`${sep}${pkg}`, framework.file));
  const copy = copies.find((file) => file !== reachedFile);
  if (copy) {
    const reached = reachedPackage
      ? `the one ${lookedIn()} resolves (${reachedPackage})`
      : `one ${lookedIn()} resolves, and none does`;
    const folder = copy.slice(0, copy.length - framework.file.length - 1);
    return (
      ` with the ${pkg} at ${folder}, but carbonscope reads route templates from ` +
      `${reached}: ${UNMATCHED} Start the process from the app's folder.`
    );
  }
  const installed = reachedPackage ?? appPackageFolder(pkg);
  const own = installed && framework.installedCause?.(installed, UNMATCHED);
  if (own) return own;
  const name = framework.serving.split(' ')[0];
  if (!installed) {
    return (
      `, but no ${pkg} resolves from ${lookedIn()} for carbonscope to read route templates from ` +
      `(${name} inlined in a bundle, or installed elsewhere?): ${UNMATCHED} ${keepExternal}, or ` +
      "start the process from the app's folder."
    );
  }
  return (
    `, but not the ${pkg} carbonscope reads route templates from (${installed}; ${name} ` +
    `inlined in a bundle?): ${UNMATCHED} ${keepExternal}.`
  );
}

/**
 * A check, asked at each server's first request, that says once when a server answers with
 * `framework` while the copy reached (in `reachedPackage`, as its resolver found it) is not
 * loaded: else every request of the app would be `unmatched` without a word. A second copy
 * loaded beside the reached one goes unnoticed. `reachedPackage` is asked for at the first
 * check: the resolver finds it as carbonscope installs, after this is made.
 */
export function unreachedWarner(
  framework: ReachedFramework,
  reachedPackage: () => string | undefined,
): (server: ListeningServer) => void {
  const asked = new WeakSet<object>();
  let told = false;
  return (server) => {
    if (told || asked.has(server)) return;
    asked.add(server);
    // Asked inside the request start's channel, where a throw is an uncaught exception: Node's
    // servers are emitters, but anything may publish there (the bench's request path does).
    if (typeof server.listeners !== 'function') return;
    if (!server.listeners('request').some((l) => framework.serves(l))) return;
    const reached = reachedPackage();
    if (reached && loadedAppModule(join(reached, framework.file)) !== undefined) return;
    told = true;
    process.emitWarning(
      `a ${framework.serving} serves requests${unreachedCause(framework, reached)}`,
      { type: 'CarbonscopeWarning', code: framework.code },
    );
  };
}

/**
 * Whether `listener`'s source calls every one of `methods` (`.handleRequest(`): a bundler
 * inlining a framework, minifying or not, renames its variables but keeps the names of the
 * methods its request listener calls.
 */
export function callsMethods(listener: unknown, methods: readonly string[]): boolean {
  if (typeof listener !== 'function') return false;
  const source = Function.prototype.toString.call(listener);
  return methods.every((method) => source.includes(method));
}
