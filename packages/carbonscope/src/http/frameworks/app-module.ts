// Under another name: an inlining bundler keeps this import as written, beside the ESM bundle's
// usual banner (which imports `createRequire` from Node's module package under that name): the
// bundle would declare it a second time.
import { createRequire as requireFrom } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The file `file` of the package `name` where the application would find it: beside its entry
 * script, else the cwd. The same file the application's require loads, so the same module
 * instance (the packages read through it are CommonJS only: no second, ESM copy). Undefined
 * where the package is not installed.
 */
export function appPackageFile(name: string, file: string): string | undefined {
  const from = [process.argv[1] ? dirname(process.argv[1]) : undefined, process.cwd()];
  for (const dir of from) {
    if (!dir) continue;
    try {
      const pkg = requireFrom(join(dir, 'noop.js')).resolve(`${name}/package.json`);
      return join(dirname(pkg), file);
    } catch {
      // not there; try the next place
    }
  }
  return undefined;
}

type Cache = ReturnType<typeof requireFrom>['cache'];
/** require's one module cache, whichever file asks; got from the first file asked about. */
let cache: Cache | undefined;

function moduleCache(file: string): Cache {
  cache ??= requireFrom(file).cache;
  return cache;
}

/** True once the module at `file` (absolute) was loaded through require. */
export function appModuleLoaded(file: string): boolean {
  return moduleCache(file)[file] !== undefined;
}

/** The exports of the module at `file` (absolute) if require loaded it yet; loads nothing. */
export function loadedAppModule(file: string): unknown {
  return moduleCache(file)[file]?.exports;
}
