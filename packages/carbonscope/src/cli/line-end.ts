import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Whether a regular file's last line has no line break (saved so by an editor): a row appended
 * as it stands would run on from it.
 */
export function lastLineOpen(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size === 0) return false;
    const { size } = stat;
    const last = Buffer.alloc(1);
    // A file cut short since its fstat (truncated meanwhile) has no byte there to read: the
    // buffer's 0 read as a last line without a break, and a blank line went before the report.
    return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether stdout or stderr (`fd`) goes to a regular file whose last line has no line break: a
 * command under `run` writes there directly (it inherits both), and `run --json -- printf abc >
 * out` left `abc{` there, JSON no reader could parse. Read anew through /dev/fd (the shell may
 * have opened it write-only). A pipe or a terminal cannot be read back: false, as where it fails.
 */
export function stdioLineOpen(fd: 1 | 2): boolean {
  try {
    return fstatSync(fd).isFile() && lastLineOpen(`/dev/fd/${fd}`);
  } catch {
    return false;
  }
}

/** What starts a report written to stdout or stderr (`fd`): a line break where one is wanted. */
export function lineStartOn(fd: 1 | 2): string {
  return stdioLineOpen(fd) ? '\n' : '';
}
