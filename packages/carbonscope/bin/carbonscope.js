#!/usr/bin/env node
// npm links a command only if its file exists when it installs, and in a clone `npm ci` runs
// before the build: this committed file is what npm links, and it loads the built CLI.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('carbonscope: the command line is not built yet: run `npm run build`\n');
  process.exitCode = 1;
} else {
  // Before the command line loads: on a Node it cannot run on, it failed deep inside.
  const why = createRequire(import.meta.url)('../dist/src/supported-node.cjs').unsupportedNode();
  if (why === undefined) {
    await import(main.href);
  } else {
    process.stderr.write(`carbonscope: error: ${why}\n`);
    process.exitCode = 1;
  }
}
