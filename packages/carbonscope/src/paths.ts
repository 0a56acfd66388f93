import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The library's package root, whether it runs from dist/src/ or from an installed tarball. */
export const libraryRoot = packageRoot(dirname(fileURLToPath(import.meta.url)));

/** A data file the package ships under data/ (model and mix tables). */
export function dataFile(...segments: string[]): string {
  return join(libraryRoot, 'data', ...segments);
}
