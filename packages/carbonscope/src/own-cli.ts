import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setHidden } from './hidden-slot.js';
import { isOwnPackage } from './paths.js';

/**
 * Set by carbonscope's command line in its own process, on globalThis so that a `register` of
 * another copy of the package (NODE_OPTIONS=--import carbonscope/register reaches every Node
 * process, the CLI's too) sees it: the CLI's figures are the command's, which it reports itself,
 * and its own process's end is no loss to tell of.
 */
const KEY = Symbol.for('carbonscope.own-cli.v1');
const holder = globalThis as { [KEY]?: boolean };

export function markOwnCli(): void {
  setHidden(holder, KEY, true);
}

export function isOwnCli(): boolean {
  return holder[KEY] === true;
}

/**
 * Whether `main` (process.argv[1], known before any --import runs, while the CLI has not loaded
 * yet) is carbonscope's command: its `bin/carbonscope.js`, of any copy of the package, reached
 * by npm's link or named itself. Read from disk only for a file of that name.
 */
export function startsOwnCli(main: string | undefined = process.argv[1]): boolean {
  if (!main || (basename(main) !== 'carbonscope' && basename(main) !== 'carbonscope.js')) {
    return false;
  }
  try {
    const file = realpathSync(main);
    if (basename(file) !== 'carbonscope.js' || basename(dirname(file)) !== 'bin') return false;
    return isOwnPackage(dirname(dirname(file)));
  } catch {
    return false;
  }
}
