import { closeSync, openSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeQuietly } from './remove-quietly.js';

/** How long a run waits for another to append: that write takes microseconds. */
const CLAIM_WAIT_MS = 2_000;
const STEP_MS = 5;

/**
 * Runs `write` while holding the claim to append to the existing file `path`. Runs ending
 * together on an empty file (`touch emissions.csv` before a CI matrix) each found it empty and
 * each wrote a header, a data row to pandas; and one reading the file's end while another's row
 * was half-written took it for a last line without its line break. The claim is a file beside
 * it made with an exclusive create, so `write` reads the file again and sees every other run's
 * write whole: one run alone finds it empty. A claim left by a run killed while holding it is
 * taken over once it is CLAIM_WAIT_MS old; one still held after CLAIM_WAIT_MS of waiting, and a
 * folder where none can be made (read-only, its file writable), write as before, unclaimed.
 */
export function withHeaderClaim(path: string, write: () => void): void {
  const claim = join(dirname(path), `.${basename(path)}.carbonscope-header`);
  // Monotonic: a wall clock stepped back (NTP, a VM resumed) made the 2 s wait an hour's. A claim's
  // age stays on the wall clock, which its file's mtime is on.
  const deadline = performance.now() + CLAIM_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(claim, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        write();
        return;
      }
      // Older than any holder lives: removed, to be claimed at the next step, as each run ending
      // with this one would; written unclaimed, they each wrote a header. One that cannot be
      // removed (another user's, in a sticky folder) is waited out as a live one is.
      if (claimAgeMs(claim) >= CLAIM_WAIT_MS) removeQuietly(claim);
      if (performance.now() >= deadline) {
        write();
        return;
      }
      // A synchronous pause: appending a row is synchronous, and the wait is short.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STEP_MS);
    }
  }
  try {
    write();
  } finally {
    removeQuietly(claim);
  }
}

function claimAgeMs(claim: string): number {
  try {
    return Date.now() - statSync(claim).mtimeMs;
  } catch {
    return 0;
  }
}
