import { startsChildLauncher } from './child-launcher.js';
import { startsOwnCli } from './own-cli.js';
import { isPm2Daemon, mayRunPm2Daemon } from './pm2.js';

/**
 * Whether register does nothing in this process, told by its main module (process.argv[1]):
 * carbonscope's own command, which measures and reports what it runs, or a package manager's or
 * launcher's, whose child runs the application (`npm start`, `nodemon` under NODE_OPTIONS). One
 * list for both entries: the small one skips loading the rest there, register-eager starts
 * nothing there.
 */
export function registerStandsDown(main: string | undefined = process.argv[1]): boolean {
  return startsOwnCli(main) || startsChildLauncher(main);
}

/**
 * Whether register, standing down in this process, starts once it forks its first node:cluster
 * worker, to serve the cluster's endpoint as a registered primary does: pm2's daemon, the
 * primary of its cluster mode's workers, or pm2-runtime's process, which may run the daemon's
 * part itself. Its fork mode's children are no workers: there it never starts, and the
 * application's own process holds the Prometheus port.
 */
export function registerWaitsForCluster(
  main: string | undefined = process.argv[1],
  args: readonly string[] = process.argv.slice(2),
): boolean {
  return isPm2Daemon(main) || mayRunPm2Daemon(main, args);
}
