import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../../src/paths.js';

/** Folders that hold no document of the project's own: installs, builds, run outputs. */
const SKIPPED = new Set(['node_modules', 'dist', '.git', 'bench-results', 'test-artifacts']);

/** Every Markdown file of the project, as paths relative to its root. */
export function markdownFiles(dir = projectRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [relative(projectRoot, path)] : [];
  });
}
