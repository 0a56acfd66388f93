import { unlinkSync } from 'node:fs';

/**
 * Unlinks a file that may not exist (its write failed at the open). A failure is let go: once
 * linked, the row is written, and a run that reported it lost would be told a wrong thing.
 */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already, or the folder refuses: the row's outcome is what the run reports.
  }
}
