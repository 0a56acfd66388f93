/**
 * Resolves when stdout or stderr can no longer be written (the reader of a pipe went away, as
 * `| head` does), and from then on lets their writes (the summary) fail quietly instead of
 * crashing with an unhandled 'error' event: `run` keeps its command's exit code, `monitor`
 * ends as on Ctrl-C.
 */
export function outputClosed(): Promise<void> {
  return new Promise((resolve) => {
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => resolve());
  });
}
