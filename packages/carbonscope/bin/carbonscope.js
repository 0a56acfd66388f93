#!/usr/bin/env node
// npm links a command only if its file exists when it installs, and in a clone `npm ci` runs
// before the build: this committed file is what npm links, and it loads the built CLI.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(main)) {
  await import(main.href);
} else {
  process.stderr.write('carbonscope: the command line is not built yet: run `npm run build`\n');
  process.exitCode = 1;
}
