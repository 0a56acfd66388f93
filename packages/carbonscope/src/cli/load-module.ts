import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * What require() throws where it declines a module that import() loads: top-level await, a cycle
 * through a module import() is loading, require(esm) turned off (--no-experimental-require-module).
 * Any other error is the module's own (a syntax error, a missing file, its code throwing), and
 * trying import() after it hid it: Node 20.19's import() hands back a module whose evaluation threw
 * under require() as loaded.
 */
const REQUIRE_DECLINES = new Set([
  'ERR_REQUIRE_ASYNC_MODULE',
  'ERR_REQUIRE_CYCLE_MODULE',
  'ERR_REQUIRE_ESM',
]);

/**
 * A module of the command line (`./run.js`, as from this folder), by a synchronous require()
 * where it can. Node 20 opens every file of an import()ed graph at once: `run` and `monitor`
 * (~500 modules, zod's locales among them) died at start at `ulimit -n` 96 and below, EMFILE and a
 * stack trace, nothing run; require() opens them one at a time, as `register` does. Where
 * require() declines a module, import() loads it, or says why it cannot.
 */
export async function loadModule<T>(specifier: string): Promise<T> {
  try {
    return requireHere(specifier) as T;
  } catch (err) {
    if (!REQUIRE_DECLINES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return (await import(specifier)) as T;
  }
}
