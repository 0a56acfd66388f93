import { refusedReading } from '../permission-refusal.js';

/**
 * Why Node's permission model keeps a reader out of /proc: the words and the flag to grant;
 * undefined where it does not, or no permission model runs. Asked of the model itself, not by
 * reading /proc once more before the reader reads it.
 */
export function procRefused(): string | undefined {
  // Undefined where no permission model runs, though @types/node types it as always there.
  const permission = process.permission as typeof process.permission | undefined;
  return permission && !permission.has('fs.read', '/proc') ? refusedReading('/proc') : undefined;
}
