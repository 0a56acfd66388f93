import { readFileSync } from 'node:fs';

/**
 * The kernel's boot id, as Linux writes it (a UUID and a line break): new at each boot, and the
 * same for every container of the host. Undefined where it cannot be read (not Linux).
 */
export function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1');
  } catch {
    return undefined;
  }
}
