import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  type Stats,
  statSync,
} from 'node:fs';

/** A path that names a FIFO, a device or a socket: what may be read without end. */
export class NotRegularFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} is a FIFO, a device or a socket, not a file`);
    this.name = 'NotRegularFileError';
  }
}

/** A regular file, or a folder, which readFileSync refuses as EISDIR. */
const readable = (stat: Stats) => stat.isFile() || stat.isDirectory();

/** Whether `path` names a FIFO, a device or a socket (stat does not open it, nor wait on it). */
export function namesNoFile(path: string): boolean {
  try {
    return !readable(statSync(path));
  } catch {
    return false;
  }
}

/**
 * The bytes of the regular file at `path`; throws NotRegularFileError for a FIFO, a device or a
 * socket, unread (read whole, a FIFO waited for a writer without end and /dev/zero grew the
 * process by gigabytes), and EISDIR for a folder, as readFileSync does.
 * Looked at before it is opened: an open, even without blocking, lets go a writer waiting on a
 * FIFO (SIGPIPE for it once closed), and a device's open may act. Opened without blocking and
 * checked again as opened, so the path cannot be swapped between the check and the read.
 */
export function readRegularFile(path: string): Buffer {
  if (!readable(statSync(path))) throw new NotRegularFileError(path);
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    if (!readable(fstatSync(fd))) throw new NotRegularFileError(path);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
