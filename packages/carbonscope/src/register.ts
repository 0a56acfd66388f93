// `node -r carbonscope/register app.js` (or a require() of it, or -r in NODE_OPTIONS) under Node:
// register-eager.ts's ~250 modules are loaded on the main thread only. A worker thread inherits
// --import and register does nothing there, so it would pay that load at each start for nothing
// (a pool's worker started some 8 times slower, see the README). Loaded by require(esm),
// synchronously: register acts before the application's modules load (its route resolvers, its
// word to instrumentation), which an unawaited import() would not ensure, and a top-level await
// would make `-r carbonscope/register` refuse this file (ERR_REQUIRE_ASYNC_MODULE). package.json
// gives this file to require() under the `module-sync` condition only (Node with require(esm)):
// bundlers, which cannot follow a createRequire, take register-eager.js itself, and an older
// Node's -r takes register-default.cjs.
// Node's `--import` and `import` take register-import.js, which awaits an import() of the rest.
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) loadRest();

/**
 * register-eager.js, loaded; a load that throws stops nothing (its missing files beside a bundle
 * that took this entry, no import.meta.url in a CommonJS one, the rest failing as it evaluates):
 * as register-eager says of its own failures, one line, and the application runs unmetered.
 */
function loadRest(): void {
  try {
    const load = createRequire(import.meta.url);
    if (!standsDown(load)) load('./register-eager.js');
  } catch (err) {
    tell(err);
  }
}

/**
 * Where register-eager would do nothing (carbonscope's command, a package manager's or launcher's
 * before the application's), its load is not paid either: 0.15 s more at each `npm start`. Loaded
 * here, not imported: a worker thread loads nothing but this file. Where these cannot load (the
 * entry alone), register-eager's own load says what is missing.
 */
function standsDown(load: NodeJS.Require): boolean {
  try {
    const { registerRole } = load('./register-role.js') as typeof import('./register-role.js');
    return registerRole() === 'stands-down';
  } catch {
    return false;
  }
}

/** register-unmetered's line where that loads (not beside a bundle that took this entry alone). */
function tell(err: unknown): void {
  try {
    const { tellUnmetered } = createRequire(import.meta.url)(
      './register-unmetered.js',
    ) as typeof import('./register-unmetered.js');
    tellUnmetered(err, 'require');
  } catch {
    const reason = firstLine(err);
    process.stderr.write(
      `carbonscope: error: carbonscope/register: ${reason}; the application runs unmetered\n`,
    );
  }
}

/**
 * thrown-text.ts's firstLineOf, here where nothing beside this file may load (a worker thread
 * loads it alone; a bundle may leave it alone): a thrown value with no text must not make the
 * line that tells of it throw, which would stop the application.
 */
function firstLine(err: unknown): string {
  try {
    return String(err instanceof Error ? err.message : err).split('\n')[0];
  } catch {
    return 'a value with no text';
  }
}
