import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module's URL; undefined where a bundler's CommonJS output emptied import.meta. */
const moduleUrl: string | undefined = import.meta.url;

/**
 * The library's package root: this module runs compiled, from dist/src/paths.js. Bundled, it is
 * the bundle's grandparent folder (ESM) or '' (CommonJS), without data/: loadCatalog says so.
 * A path, not a URL made of a literal and moduleUrl: Turbopack takes that for an asset to copy
 * (following the const to import.meta.url), and failed a Next build that imported carbonscope.
 */
export const libraryRoot = moduleUrl ? join(fileURLToPath(moduleUrl), '..', '..', '..') : '';

/** The name the package.json in `root` gives; undefined where there is none to read. */
export function packageNameAt(root: string): string | undefined {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'name' in pkg && typeof pkg.name === 'string'
      ? pkg.name
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `root` is the root of a copy of carbonscope's package: its package.json names it. */
export function isOwnPackage(root: string): boolean {
  return packageNameAt(root) === 'carbonscope';
}

/**
 * Checked once, when a data file is first asked for: importing the library reads nothing.
 * Bundled, libraryRoot is the application's folder (or one above it), and a data/ there is
 * someone else's: read as our tables, an unrelated or hostile file would price every LLM call.
 */
let ownRoot: string | undefined | null = null;

/**
 * A data file the package ships under data/ (model and mix tables); undefined where this module
 * is not in carbonscope's package (inlined by a bundler).
 */
export function dataFile(...segments: string[]): string | undefined {
  if (ownRoot === null)
    ownRoot = libraryRoot && isOwnPackage(libraryRoot) ? libraryRoot : undefined;
  return ownRoot === undefined ? undefined : join(ownRoot, 'data', ...segments);
}
