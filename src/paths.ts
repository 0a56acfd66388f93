import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this module always runs compiled, from dist/src/paths.js. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Path of a data file kept beside the sources (models, datasets, static files). tsc does not
 * copy non-TS files, so assets are always read from src/, never from dist/.
 */
export function sourceAsset(...segments: string[]): string {
  return join(projectRoot, 'src', ...segments);
}
