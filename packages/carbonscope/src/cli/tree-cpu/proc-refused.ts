import { closeSync, openSync, readdirSync } from 'node:fs';
import { permissionRefusal } from '../../permission-refusal.js';

/**
 * Why Node's permission model keeps the tree's reader out of /proc (its listing, or a process's
 * stat file): the words and the flag to grant; undefined where it does not, or no permission
 * model runs. Any other failure is the reader's own to meet, as it always has.
 */
export function procRefused(): string | undefined {
  try {
    readdirSync('/proc');
    closeSync(openSync('/proc/self/stat', 'r'));
    return undefined;
  } catch (err) {
    return permissionRefusal(err, '/proc');
  }
}
