import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module's URL; undefined where a bundler's CommonJS output emptied import.meta. */
const moduleUrl: string | undefined = import.meta.url;

/**
 * The library's package root: this module runs compiled, from dist/src/paths.js. Bundled, it is
 * the bundle's grandparent folder (ESM) or '' (CommonJS), without data/: loadCatalog says so.
 */
export const libraryRoot = moduleUrl ? fileURLToPath(new URL('../..', moduleUrl)) : '';

/** A data file the package ships under data/ (model and mix tables); undefined bundled as CJS. */
export function dataFile(...segments: string[]): string | undefined {
  return libraryRoot ? join(libraryRoot, 'data', ...segments) : undefined;
}
