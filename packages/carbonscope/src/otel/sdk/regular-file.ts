import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** A path that names a FIFO, a device or a socket: what may be read without end. */
export class NotRegularFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} is a FIFO, a device or a socket, not a file`);
    this.name = 'NotRegularFileError';
  }
}

/**
 * The bytes of the regular file at `path`; throws NotRegularFileError for a FIFO, a device or a
 * socket, unread (read whole, a FIFO waited for a writer without end and /dev/zero grew the
 * process by gigabytes), and EISDIR for a folder, as readFileSync does.
 * Opened without blocking (a FIFO's open waits for a writer too), and checked as opened, so the
 * path cannot be swapped between the check and the read.
 */
export function readRegularFile(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() && !stat.isDirectory()) throw new NotRegularFileError(path);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
