import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The library's package root: this module always runs compiled, from dist/src/paths.js. */
export const libraryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A data file the package ships under data/ (model and mix tables). */
export function dataFile(...segments: string[]): string {
  return join(libraryRoot, 'data', ...segments);
}
