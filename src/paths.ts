import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The package root, whether code runs from src/ (tsx) or from dist/src/ (compiled). */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * Path of a data file kept beside the sources (models, datasets, static files). tsc does not
 * copy non-TS files, so assets are always read from src/, never from dist/.
 */
export function sourceAsset(...segments: string[]): string {
  return join(projectRoot, 'src', ...segments);
}
