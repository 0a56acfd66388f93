import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { packageNameAt } from './paths.js';

/** Whether `file`'s real path is `lib/<name>` in a package whose package.json names it pm2. */
function pm2File(file: string | undefined, names: readonly string[]): boolean {
  if (!file || !names.includes(basename(file))) return false;
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return false;
  }
  const lib = dirname(real);
  return basename(lib) === 'lib' && packageNameAt(dirname(lib)) === 'pm2';
}

/**
 * Whether `main` (process.argv[1]) is pm2's daemon (lib/Daemon.js), which runs the applications
 * it starts in children: fork mode's are the application's own processes, cluster mode's are
 * this process's node:cluster workers. It is their primary: register serves their endpoint from
 * here once it forks the first, and does nothing before (fork mode's child holds the port).
 */
export function isPm2Daemon(main: string | undefined = process.argv[1]): boolean {
  return pm2File(main, ['Daemon.js']);
}

/** Whether `main` is the file pm2's cluster mode runs the application in (its daemon's worker). */
export function isPm2ClusterWorker(main: string | undefined = process.argv[1]): boolean {
  return pm2File(main, ['ProcessContainer.js', 'ProcessContainerBun.js']);
}
