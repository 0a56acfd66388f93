import { realpathSync } from 'node:fs';
import { basename, sep } from 'node:path';
import { packageNameAt } from './paths.js';

/** Next's CLI, as its package's `bin` names it. */
const CLI = ['dist', 'bin', 'next'];

/**
 * The processes Next's build and dev server start for their static pages and bundling (Next
 * 16.5's own worker, and the jest-worker child earlier lines vendor), and the detached one that
 * sends its telemetry when a command ends: none serves a request of the application's.
 */
const WORKERS = [
  ['dist', 'lib', 'worker', 'worker-process-child.js'],
  ['dist', 'compiled', 'jest-worker', 'processChild.js'],
  ['dist', 'telemetry', 'detached-flush.js'],
];

/** The root of the package `next` holding `file` at `inside`, if it ends so and is Next's own. */
function nextRootOf(file: string, inside: readonly string[]): string | undefined {
  const segments = file.split(sep);
  if (segments.length <= inside.length) return undefined;
  for (let i = 1; i <= inside.length; i++) {
    if (segments[segments.length - i] !== inside[inside.length - i]) return undefined;
  }
  const root = segments.slice(0, -inside.length).join(sep);
  return packageNameAt(root) === 'next' ? root : undefined;
}

/** The command Next's CLI runs: its first argument that is no option; `dev` where none is. */
function nextCommand(args: readonly string[]): string {
  return args.find((arg) => !arg.startsWith('-')) ?? 'dev';
}

/**
 * Whether `main` is a process of Next's that is not the application serving: `next build` (a build,
 * whose figures are no request's, and which held the Prometheus port and pushed under the
 * service's name), `next dev` (its process only forks the server that serves, which then found the
 * port taken) and the workers either starts (each one more error line, or one more series). Only
 * `next start` serves in its own process. `next dev`'s server (start-server.js) measures.
 * Told by the file's real path in the package `next`: an application's own files are not.
 */
export function startsNextTooling(main: string, args: readonly string[]): boolean {
  // No file is read for any other main module: register asks at every process's start.
  const name = basename(main);
  if (name !== 'next' && !WORKERS.some((inside) => inside[inside.length - 1] === name))
    return false;
  let file: string;
  try {
    file = realpathSync(main);
  } catch {
    return false;
  }
  if (nextRootOf(file, CLI) !== undefined) return nextCommand(args) !== 'start';
  return WORKERS.some((inside) => nextRootOf(file, inside) !== undefined);
}
