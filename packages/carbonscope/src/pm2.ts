import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { packageNameAt } from './paths.js';

/** Whether `file`'s real path is `<folder>/<name>` in a package whose package.json names it pm2. */
function pm2File(file: string | undefined, folder: string, names: readonly string[]): boolean {
  if (!file || !names.includes(basename(file))) return false;
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return false;
  }
  const dir = dirname(real);
  return basename(dir) === folder && packageNameAt(dirname(dir)) === 'pm2';
}

/**
 * Whether `main` (process.argv[1]) is pm2's daemon (lib/Daemon.js), which runs the applications
 * it starts in children: fork mode's are the application's own processes, cluster mode's are
 * this process's node:cluster workers. It is their primary: register serves their endpoint from
 * here once it forks the first, and does nothing before (fork mode's child holds the port).
 */
export function isPm2Daemon(main: string | undefined = process.argv[1]): boolean {
  return pm2File(main, 'lib', ['Daemon.js']);
}

/**
 * Whether `main` may run pm2's daemon's part in its own process, where no daemon runs yet:
 * pm2-runtime (and pm2-docker, its old name), Docker's way, and `pm2 --no-daemon` (`args`, the
 * options before a `--`, as pm2 reads them). Its cluster mode's workers are then its own.
 */
export function mayRunPm2Daemon(
  main: string | undefined = process.argv[1],
  args: readonly string[] = process.argv.slice(2),
): boolean {
  if (pm2File(main, 'bin', ['pm2-runtime', 'pm2-docker'])) return true;
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  return own.includes('--no-daemon') && pm2File(main, 'bin', ['pm2']);
}

/** Whether `main` is the file pm2's cluster mode runs the application in (its daemon's worker). */
export function isPm2ClusterWorker(main: string | undefined = process.argv[1]): boolean {
  return pm2File(main, 'lib', ['ProcessContainer.js', 'ProcessContainerBun.js']);
}
