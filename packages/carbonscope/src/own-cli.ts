/**
 * Set by carbonscope's command line in its own process, on globalThis so that a `register` of
 * another copy of the package (NODE_OPTIONS=--import carbonscope/register reaches every Node
 * process, the CLI's too) sees it: the CLI's figures are the command's, which it reports itself,
 * and its own process's end is no loss to tell of.
 */
const KEY = Symbol.for('carbonscope.own-cli.v1');
const holder = globalThis as { [KEY]?: boolean };

export function markOwnCli(): void {
  holder[KEY] = true;
}

export function isOwnCli(): boolean {
  return holder[KEY] === true;
}
