import { startsChildLauncher } from './child-launcher.js';
import { startsOwnCli } from './own-cli.js';

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
