#!/usr/bin/env node
// Removes what `tsc -b` emitted for a source that is gone (moved or deleted): tsc never deletes
// its old outputs, so a moved test ran twice under a `**` glob, and `npm pack` shipped a moved
// module's old copy. Usage: node prune-dist.mjs <project dir>... (each with its dist/ beside the
// sources, rootDir "."). Prints one line per project; files it does not know are left alone.
import { readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// What tsc emits for a source, longest first so that x.d.ts.map is not read as x.d.ts + .map.
const EMITTED = ['.d.ts.map', '.d.cts.map', '.d.mts.map', '.js.map', '.cjs.map', '.mjs.map'];
const EMITTED_PLAIN = ['.d.ts', '.d.cts', '.d.mts', '.js', '.cjs', '.mjs'];
const SOURCES = ['.ts', '.tsx', '.cts', '.mts'];

/** The source path (without extension) an emitted file came from, or undefined if not tsc's. */
function sourceBase(file) {
  const ext = [...EMITTED, ...EMITTED_PLAIN].find((e) => file.endsWith(e));
  return ext === undefined ? undefined : file.slice(0, -ext.length);
}

function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function hasSource(project, base) {
  return SOURCES.some((e) => exists(join(project, `${base}${e}`)));
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
    const base = sourceBase(relative(dist, path));
    if (base !== undefined && !hasSource(project, base)) {
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
