import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let removing = false;

function removeAll(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/**
 * 'exit' covers a normal end, process.exit (mocha --exit) and an uncaught error. A signal ends
 * the process without 'exit': its listener removes the folders, then raises the signal again to
 * end the process as it would have, unless someone else listens for it and decides.
 */
function removeAtExit(): void {
  removing = true;
  process.once('exit', removeAll);
  for (const signal of SIGNALS) {
    process.once(signal, () => {
      removeAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * A fresh folder in the temporary folder (or in `parent`), for a module that keeps one for the
 * whole run (an empty working directory for the processes it spawns): removed, with what is in
 * it, when the process ends.
 */
export function tempDirUntilExit(prefix: string, parent = tmpdir()): string {
  if (!removing) removeAtExit();
  const dir = mkdtempSync(join(parent, prefix));
  dirs.add(dir);
  return dir;
}
