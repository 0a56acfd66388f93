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

/** Why a write to stdout failed, in words where the code is a common one. */
const STDOUT_REASONS: Record<string, string> = {
  ENOSPC: 'its file system is full',
  EDQUOT: 'its disk quota is used up',
  EIO: 'an input/output error',
};

/**
 * Watches stdout from now on for a write that fails other than by its reader going away (EPIPE:
 * `| head`, the user's choice): a full disk under `> report.json` loses the figures, which an
 * exit status of 0 would call written. Returns what to say of the first such failure, if any.
 */
export function watchStdout(): () => string | undefined {
  let failure: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') failure ??= err;
  });
  return () =>
    failure &&
    `could not write to stdout: ${STDOUT_REASONS[failure.code ?? ''] ?? failure.message}`;
}
