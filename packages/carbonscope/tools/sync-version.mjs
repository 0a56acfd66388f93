// src/version.ts holds VERSION as a constant, because a bundle has no package.json beside it to
// read. `npm version` runs this after it bumps package.json (the `version` script), so the
// constant follows; `--check` (prepack) refuses to pack a tarball whose two versions differ.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const file = new URL('src/version.ts', root);
const source = readFileSync(file, 'utf8');
const pattern = /export const VERSION = '([^']*)';/;
const found = pattern.exec(source);
if (!found) {
  console.error(`sync-version: no "export const VERSION = '...';" in ${file.pathname}`);
  process.exit(1);
}
if (found[1] === version) process.exit(0);
if (process.argv[2] === '--check') {
  console.error(
    `sync-version: src/version.ts says ${found[1]}, package.json ${version}: run node tools/sync-version.mjs`,
  );
  process.exit(1);
}
writeFileSync(file, source.replace(pattern, `export const VERSION = '${version}';`));
