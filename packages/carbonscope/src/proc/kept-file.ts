import { closeSync, openSync, readSync } from 'node:fs';

/** Reads a file's first bytes into `buf`; returns how many were read. Throws as fs does. */
export type HeadReader = (buf: Uint8Array, length: number) => number;

/**
 * One descriptor per path for this module's instance, shared by its readers: one per thread that
 * loads carbonscope (a worker has its own, which Node closes when the worker ends).
 */
const kept = new Map<string, number>();

/**
 * A reader of a kernel file (/proc/stat, /proc/self/stat, /sys/devices/system/cpu/online) that
 * keeps it open and reads it again from offset 0 at each call: the kernel makes such a file anew
 * at every read from its start, so the bytes are those a fresh open would read. Opening and
 * closing it cost ~45 µs of the ~100 µs of a cold read at the meter's once a second (stop 74).
 * One descriptor per path serves every meter of the thread (close-on-exec, as Node opens all).
 * A failed open throws, and is tried again at the next call; a failed read closes the descriptor
 * and throws, so the next call opens it again. Only for the kernel's own files: a regular file
 * may be replaced or removed, and a kept descriptor would go on reading the old one.
 */
export function keptFileReader(path: string): HeadReader {
  return (buf, length) => {
    let fd = kept.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'r');
      kept.set(path, fd);
    }
    try {
      return readSync(fd, buf, 0, length, 0);
    } catch (err) {
      kept.delete(path);
      closeSync(fd);
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
