import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Reads a file's first bytes into `buf`; returns how many were read. Throws as fs does. */
export type HeadReader = (buf: Uint8Array, length: number) => number;

/** A kept descriptor and the file it was opened on (device and inode, as fstat gives them). */
interface Kept {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
}

/**
 * One descriptor per path for this module's instance, shared by its readers: one per thread that
 * loads carbonscope (a worker has its own, which Node closes when the worker ends).
 */
const kept = new Map<string, Kept>();

function openKept(path: string): Kept {
  const fd = openSync(path, 'r');
  try {
    const { dev, ino } = fstatSync(fd);
    return { fd, dev, ino };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Whether the kept number still names the file it was opened on. Code elsewhere may close it (a
 * loop closing every descriptor, a double close) and the number go to a file of the application's
 * own: read, that one parsed as garbage for the rest of the process; closed after a failed read,
 * it cut the application's socket (review, stop 74). One fstat, 1.4-1.5 µs in a loop (6 µs an open and close there, ~45 at one a second).
 */
function stillKept(k: Kept): boolean {
  try {
    const { dev, ino } = fstatSync(k.fd);
    return dev === k.dev && ino === k.ino;
  } catch {
    return false;
  }
}

/**
 * A reader of a kernel file (/proc/stat, /proc/self/stat; /sys/devices/system/cpu/online where
 * /proc/stat lists no CPU) that keeps it open and reads it again from offset 0 at each call: the
 * kernel makes such a file anew at every read from its start, so the bytes are those a fresh
 * open would read. Opening and closing it cost ~45 µs of the ~100 µs of a cold read at the
 * meter's once a second (stop 74). One descriptor per path serves every meter of the thread
 * (close-on-exec, as Node opens all). A failed open throws, and is tried again at the next call;
 * a failed read closes the descriptor and throws, so the next call opens it again; a number
 * closed by other code is opened anew. Only for the kernel's own files: a regular file may be
 * replaced or removed, and a kept descriptor would go on reading the old one.
 */
export function keptFileReader(path: string): HeadReader {
  return (buf, length) => {
    let k = kept.get(path);
    // A number that is no longer this module's is let go, never closed: it is not ours to close.
    if (k !== undefined && !stillKept(k)) k = undefined;
    if (k === undefined) {
      k = openKept(path);
      kept.set(path, k);
    }
    try {
      return readSync(k.fd, buf, 0, length, 0);
    } catch (err) {
      kept.delete(path);
      closeSync(k.fd);
      throw err;
    }
  };
}

/** A reader that opens the file at each call (a file a test writes, which it may remove). */
export function freshFileReader(path: string): HeadReader {
  return (buf, length) => {
    const fd = openSync(path, 'r');
    try {
      return readSync(fd, buf, 0, length, 0);
    } finally {
      closeSync(fd);
    }
  };
}
