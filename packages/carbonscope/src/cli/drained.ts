/** How long a stream may take none of what it was given before the CLI ends without it. */
export const STALL_MS = 3000;
const CHECK_MS = 250;

/**
 * Resolves once `stream` has written all it was given, or once its reader has taken none of it
 * for `stallMs`: a supervisor that never reads the stderr it gave (or a stopped `| less`) held
 * the CLI at its end for ever, its figures written and its status never told, until a SIGKILL.
 * A reader that is slow but reads (a pipe over ssh) still gets it all.
 */
export function drainedOrStalled(
  stream: NodeJS.WritableStream & { readonly writableLength: number },
  stallMs = STALL_MS,
): Promise<void> {
  return new Promise((resolve) => {
    let queued = stream.writableLength;
    let stalledMs = 0;
    const check = setInterval(() => {
      const now = stream.writableLength;
      stalledMs = now > 0 && now >= queued ? stalledMs + CHECK_MS : 0;
      queued = now;
      if (stalledMs >= stallMs) done();
    }, CHECK_MS);
    function done(): void {
      clearInterval(check);
      resolve();
    }
    stream.write('', done);
  });
}
