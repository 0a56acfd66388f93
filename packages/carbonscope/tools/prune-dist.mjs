#!/usr/bin/env node
// Removes what `tsc -b` emitted for a source that is gone (moved or deleted): tsc never deletes
// its old outputs, so a moved test ran twice under a `**` glob, and `npm pack` shipped a moved
// module's old copy. Usage: node prune-dist.mjs <project dir>... (each with its dist/ beside the
// sources, rootDir "."). Prints one line per project; files it does not know are left alone.
import { readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// What tsc emits for each kind of source (module nodenext), longest first so that x.d.ts.map is
// not read as x.d.ts + .map. An output counts as stale unless a source of its own kind is there:
// a .cjs left by x.cts renamed to x.ts would ship (the package's files take dist/src/**/*.cjs).
// A .json is tsc's copy of an imported one (resolveJsonModule), at the same path.
const TS = ['.ts', '.tsx'];
const EMITTED = [
  ['.d.ts.map', TS],
  ['.d.cts.map', ['.cts']],
  ['.d.mts.map', ['.mts']],
  ['.js.map', TS],
  ['.cjs.map', ['.cts']],
  ['.mjs.map', ['.mts']],
  ['.d.ts', TS],
  ['.d.cts', ['.cts']],
  ['.d.mts', ['.mts']],
  ['.js', TS],
  ['.cjs', ['.cts']],
  ['.mjs', ['.mts']],
  ['.json', ['.json']],
];

/** The source paths an emitted file may have come from, or undefined if not tsc's. */
function sources(file) {
  const found = EMITTED.find(([ext]) => file.endsWith(ext));
  if (found === undefined) return undefined;
  const [ext, kinds] = found;
  const base = file.slice(0, -ext.length);
  return kinds.map((kind) => `${base}${kind}`);
}

function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes stale outputs under `dir` (inside `project`/dist); returns how many, and empty folders. */
function prune(project, dist, dir) {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += prune(project, dist, path);
      if (readdirSync(path).length === 0) rmdirSync(path);
      continue;
    }
    const from = sources(relative(dist, path));
    if (from !== undefined && !from.some((source) => exists(join(project, source)))) {
      rmSync(path);
      removed += 1;
    }
  }
  return removed;
}

const projects = process.argv.slice(2);
if (projects.length === 0) {
  console.error('usage: prune-dist.mjs <project dir>...');
  process.exit(2);
}
for (const project of projects) {
  const dist = join(project, 'dist');
  if (!exists(dist)) continue;
  const removed = prune(project, dist, dist);
  if (removed > 0) console.log(`prune-dist: ${removed} stale file(s) removed from ${dist}`);
}
