import { procRefused } from '../proc/index.js';

/**
 * Why Node's permission model keeps the children's CPU unread (ChildrenCpu reads /proc): the
 * words and the flag to grant; undefined where it does not, no model runs, or the model lets
 * no child process start (nothing is then lost). Asked of the model, not by reading /proc.
 */
export function childrenCpuRefused(): string | undefined {
  // Undefined where no permission model runs, though @types/node types it as always there.
  const permission = process.permission as typeof process.permission | undefined;
  if (process.platform !== 'linux' || !permission?.has('child')) return undefined;
  return procRefused();
}
