import { CHAR_0, CHAR_9, freshFileReader, keptFileReader, NEWLINE } from '../proc/index.js';

export const CPU_ONLINE_PATH = '/sys/devices/system/cpu/online';

const COMMA = 44;
const DASH = 45;
// A cpulist of 4,096 single CPUs with gaps between them stays under 24 KiB.
const LIST_BYTES = 24 * 1024;

/** Reads a decimal number from `i`; [value, next index], or undefined when no digit is there. */
function readNumber(buf: Uint8Array, length: number, i: number): [number, number] | undefined {
  if (i >= length || buf[i] < CHAR_0 || buf[i] > CHAR_9) return undefined;
  let value = 0;
  for (; i < length && buf[i] >= CHAR_0 && buf[i] <= CHAR_9; i++)
    value = value * 10 + buf[i] - CHAR_0;
  return [value, i];
}

/**
 * The number of CPUs in a kernel cpulist (`0-3,5,7-9`, as /sys/devices/system/cpu/online has
 * it), parsed from bytes; undefined for anything else, an empty list included.
 */
export function countCpuList(buf: Uint8Array, length: number): number | undefined {
  let end = length;
  if (end > 0 && buf[end - 1] === NEWLINE) end--;
  let count = 0;
  let i = 0;
  while (i < end) {
    const first = readNumber(buf, end, i);
    if (!first) return undefined;
    let [last, next] = first;
    if (next < end && buf[next] === DASH) {
      const second = readNumber(buf, end, next + 1);
      if (!second || second[0] < first[0]) return undefined;
      [last, next] = second;
    }
    count += last - first[0] + 1;
    if (next === end) return count;
    if (buf[next] !== COMMA) return undefined;
    i = next + 1;
  }
  return undefined; // empty, or a trailing comma
}

const C = 99;
const P = 112;
const U = 117;

/**
 * The CPUs online as /proc/stat lists them: one `cpuN` line each after the aggregate line. The
 * kernel prints those for_each_online_cpu (fs/proc/stat.c), from the cpu_online_mask that
 * /sys/devices/system/cpu/online prints too (drivers/base/cpu.c), so the count is that file's,
 * read with the times it goes with. 0 where none is listed. `whole`: the bytes are the whole
 * file; where they are not, undefined if they end before the line after the last `cpuN` one
 * (a buffer too small for this host's CPUs).
 */
export function countCpuLines(buf: Uint8Array, length: number, whole: boolean): number | undefined {
  let count = 0;
  let i = lineAfter(buf, length, 0);
  // Fewer than 4 bytes left cannot tell a `cpuN` line.
  while (i >= 0 && length - i >= 4) {
    if (!isCpuN(buf, i)) return count;
    count++;
    i = lineAfter(buf, length, i);
  }
  // The bytes ended before a line that is not `cpuN`: all of the file, or too few of it.
  return whole ? count : undefined;
}

/** Where the line after the one at `i` starts; -1 where its newline is not within the bytes. */
function lineAfter(buf: Uint8Array, length: number, i: number): number {
  // indexOf skips a line as memchr does, not byte by byte in JavaScript.
  const newline = buf.indexOf(NEWLINE, i);
  return newline >= 0 && newline < length ? newline + 1 : -1;
}

/** Whether the line at `i` starts `cpu` and a digit (4 bytes there at least). */
function isCpuN(buf: Uint8Array, i: number): boolean {
  return (
    buf[i] === C &&
    buf[i + 1] === P &&
    buf[i + 2] === U &&
    buf[i + 3] >= CHAR_0 &&
    buf[i + 3] <= CHAR_9
  );
}

/**
 * Returns a function that counts the CPUs online now (CPU hotplug changes it while the process
 * runs), or undefined when the file cannot be read or is not a cpulist.
 */
export function onlineCpusReader(path: string = CPU_ONLINE_PATH): () => number | undefined {
  // The kernel's file is kept open (keptFileReader); a path given (a test's file) is not.
  const read = path === CPU_ONLINE_PATH ? keptFileReader(path) : freshFileReader(path);
  let buf: Uint8Array | undefined;
  return () => {
    try {
      buf ??= new Uint8Array(LIST_BYTES);
      return countCpuList(buf, read(buf, LIST_BYTES));
    } catch {
      return undefined;
    }
  };
}
