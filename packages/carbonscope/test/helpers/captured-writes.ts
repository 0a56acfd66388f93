/** What `run` writes to stdout and to stderr, both held back from the terminal meanwhile. */
export function writtenBy(run: () => void): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  const streams = { stdout: process.stdout, stderr: process.stderr } as const;
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ['stdout', 'stderr'] as const) {
    streams[name].write = ((chunk: string | Uint8Array) => {
      out[name] += String(chunk);
      return true;
    }) as typeof process.stdout.write;
  }
  try {
    run();
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
  return out;
}

/** What `run` writes to stderr (the default logger's and the diag logger's stream). */
export function stderrOf(run: () => void): string {
  return writtenBy(run).stderr;
}
