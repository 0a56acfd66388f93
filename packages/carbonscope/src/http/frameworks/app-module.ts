// Under another name: an inlining bundler keeps this import as written, beside the ESM bundle's
// usual banner (which imports `createRequire` from Node's module package under that name): the
// bundle would declare it a second time.
import { existsSync } from 'node:fs';
import { createRequire as requireFrom } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where the application's require starts looking for a package: its entry script's folder (none
 * for `node -e`), then the cwd.
 */
export function appLookupFolders(): { entry: string | undefined; cwd: string } {
  return { entry: process.argv[1] ? dirname(process.argv[1]) : undefined, cwd: process.cwd() };
}

/**
 * The file `file` of the package `name` where the application would find it: beside its entry
 * script, else the cwd. The same file the application's require loads, so the same module
 * instance (the packages read through it are CommonJS only: no second, ESM copy). Undefined
 * where the package is not installed.
 */
export function appPackageFile(name: string, file: string): string | undefined {
  const { entry, cwd } = appLookupFolders();
  for (const dir of [entry, cwd]) {
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

/**
 * Whether `path` is there to read. Under Node's permission model existsSync throws for a path
 * not granted (a node_modules above the app's folder), and this runs inside a request's channel,
 * where a throw ended the application at its first request.
 */
function readableFile(path: string): boolean {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}

/**
 * The folder of the package `name` where the application would find it, read from the folders
 * require looks in, not through the package's exports: found too where those hide package.json
 * (an ESM-only package may). For a message: it reads the disk.
 */
export function appPackageFolder(name: string): string | undefined {
  const { entry, cwd } = appLookupFolders();
  for (const dir of [entry, cwd]) {
    if (!dir) continue;
    for (const modules of requireFrom(join(dir, 'noop.js')).resolve.paths(name) ?? []) {
      if (readableFile(join(modules, name, 'package.json'))) return join(modules, name);
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

/** The exports of the module at `file` (absolute) if require loaded it yet; loads nothing. */
export function loadedAppModule(file: string): unknown {
  return moduleCache(file)[file]?.exports;
}

/** The files require loaded whose path ends with `suffix`: a package's file, wherever installed. */
export function loadedAppModulesEndingWith(suffix: string): string[] {
  return Object.keys(moduleCache(join(process.cwd(), 'noop.js'))).filter((f) => f.endsWith(suffix));
}
