import { startsChildLauncher } from './child-launcher.js';
import { startsNextTooling } from './next-tooling.js';
import { startsOwnCli } from './own-cli.js';
import { isPm2Daemon, mayRunPm2Daemon } from './pm2.js';

/**
 * What register does in this process, told by its main module (process.argv[1]) and its options
 * before any of the application's code runs. One answer for both entries: the small one skips
 * loading the rest where register stands down, register-eager starts what the answer says.
 * - `measures`: the application's own process.
 * - `stands-down`: carbonscope's command, which measures and reports what it runs, or a package
 *   manager's or launcher's, whose child runs the application (`npm start`, `nodemon` under
 *   NODE_OPTIONS): measured, it would take the Prometheus port or push a series of its waiting;
 *   or Next's build, dev launcher and workers (next-tooling.ts).
 * - `pm2-daemon` and `may-run-pm2-daemon`: pm2's daemon, or pm2-runtime's process (and
 *   `pm2 --no-daemon`), which runs the daemon's part where no daemon runs yet. Its cluster mode's
 *   workers are its node:cluster workers: register starts at its first fork, to serve their
 *   endpoint as a registered primary does. Its fork mode's children are no workers: there it never
 *   starts, and the application's own process holds the port. Asked before the launchers, whose
 *   list names pm2's commands too.
 */
export type RegisterRole = 'measures' | 'stands-down' | 'pm2-daemon' | 'may-run-pm2-daemon';

export function registerRole(
  main: string | undefined = process.argv[1],
  args: readonly string[] = process.argv.slice(2),
): RegisterRole {
  if (isPm2Daemon(main)) return 'pm2-daemon';
  if (mayRunPm2Daemon(main, args)) return 'may-run-pm2-daemon';
  if (startsOwnCli(main) || startsChildLauncher(main, args)) return 'stands-down';
  if (main && startsNextTooling(main, args)) return 'stands-down';
  return 'measures';
}
