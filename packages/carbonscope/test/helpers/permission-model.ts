import { join } from 'node:path';
import { libraryRoot } from '../../src/paths.js';

/** The flag that turns Node's permission model on here: Node 20 knows only the experimental one. */
export const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission')
  ? '--permission'
  : '--experimental-permission';

/** The repository: the library's code and the node_modules it resolves, all a process reads. */
export const REPO_ROOT = join(libraryRoot, '..', '..');

/**
 * Node's flags for a process under the permission model that may read the repository alone,
 * as a service granted its own folder is, and `grants` (`--allow-fs-read=/proc`) besides.
 */
export function underPermission(...grants: string[]): string[] {
  return [PERMISSION_FLAG, `--allow-fs-read=${REPO_ROOT}`, ...grants];
}
