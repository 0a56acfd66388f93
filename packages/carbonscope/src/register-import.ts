// `node --import carbonscope/register app.js` and `import 'carbonscope/register'`: register.ts's
// work, for an import. register-eager.ts's ~250 modules are loaded on the main thread only, by
// a synchronous require() where it finds them: an application whose first line imports register
// has its next module evaluated as soon as this one awaits (sibling ES modules do not wait on
// one another's top-level await), before register had acted. Under Yarn Plug'n'Play (packages in
// zip archives that only its loader reaches) Node 20's require() of an ES module resolves its
// imports with its own resolver, past the loader's hooks, and finds none: there they are loaded
// by import(), awaited, which holds an application run with `--import` until register has acted.
// package.json gives this file to `import` under the `module-sync` condition, and under
// `node-addons` (Node's own, where it lacks require(esm): 22.3 to 22.11 run register imported),
// neither of which bundlers know: a top-level await cannot go in a CommonJS bundle, and `-r`
// takes register.js, since require() refuses a top-level await.
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && !unsupported() && !loadedSynchronously()) await loadRest();

/**
 * Whether this Node is one register refuses, said in its one line. Required, on the main thread
 * only: a static import made each worker thread load it too (register does nothing there), and a
 * loader that serves the package from outside the disk gave an import of it no named exports.
 * Where require() cannot reach it (such a loader) the check is left to what follows.
 */
function unsupported(): boolean {
  try {
    const load = createRequire(import.meta.url);
    const { registerUnsupported } = load(
      './supported-node.cjs',
    ) as typeof import('./supported-node.cjs');
    return registerUnsupported('import');
  } catch {
    return false;
  }
}

/**
 * Whether register-eager.js was require()d, or stands down: false where a module is not found
 * (resolved before any of them runs) or throws, and import() then loads it or says why.
 */
function loadedSynchronously(): boolean {
  try {
    const load = createRequire(import.meta.url);
    const { registerRole } = load('./register-role.js') as typeof import('./register-role.js');
    if (registerRole() !== 'stands-down') load('./register-eager.js');
    return true;
  } catch {
    return false;
  }
}

/** register-eager.js, imported; a load that throws stops nothing: one line, as register.ts's. */
async function loadRest(): Promise<void> {
  try {
    if (!(await standsDown())) await import('./register-eager.js');
  } catch (err) {
    await tell(err);
  }
}

/** register-unmetered's line where that loads; else stderr, as register.ts writes it. */
async function tell(err: unknown): Promise<void> {
  try {
    const { tellUnmetered } = await import('./register-unmetered.js');
    tellUnmetered(err, 'import');
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

/** Where register-eager would do nothing, its load is not paid either (see register.ts). */
async function standsDown(): Promise<boolean> {
  try {
    const { registerRole } = await import('./register-role.js');
    return registerRole() === 'stands-down';
  } catch {
    return false;
  }
}
