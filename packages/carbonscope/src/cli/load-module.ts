import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * A module of the command line (`./run.js`, as from this folder), by a synchronous require()
 * where it can. Node 20 opens every file of an import()ed graph at once: `run` and `monitor`
 * (~500 modules, zod's locales among them) died at start below `ulimit -n` 112, EMFILE and a
 * stack trace, nothing run; require() opens them one at a time, as `register` does. Where
 * require() refuses (a module with top-level await, a resolver only import() goes through, as
 * Yarn PnP's), import() loads it, or says why it cannot.
 */
export async function loadModule<T>(specifier: string): Promise<T> {
  try {
    return requireHere(specifier) as T;
  } catch {
    return (await import(specifier)) as T;
  }
}
