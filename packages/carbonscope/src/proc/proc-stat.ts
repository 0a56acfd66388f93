import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { CHAR_0, CHAR_9, CLOSE_PAREN, NEWLINE, OPEN_PAREN, SPACE } from './ascii.js';
import { keptFileReader } from './kept-file.js';

/** One line of /proc/<pid>/stat, the fields the tree walk needs; times in ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process (all its threads). */
  ownTicks: number;
  /** cutime + cstime: children it has waited for, with their own reaped children. */
  reapedChildrenTicks: number;
  /** starttime, ticks after boot: with the pid, it names one process (pids are reused). */
  startTime: number;
  /** State Z (or X): it has ended and waits to be reaped; its times are final. */
  zombie: boolean;
}

// Field numbers of `man 5 proc`, /proc/<pid>/stat.
const FIELD_STATE = 3;
const FIELD_PPID = 4;
const FIELD_UTIME = 14;
const FIELD_STIME = 15;
const FIELD_CUTIME = 16;
const FIELD_CSTIME = 17;
const FIELD_STARTTIME = 22;
const STATE_ZOMBIE = 0x5a; // 'Z'
const STATE_DEAD = 0x58; // 'X', seen at most for an instant before the entry goes

/** Stores field `field` of a stat line into `out`; fields the reader does not need are skipped. */
function setField(out: ProcStat, field: number, value: number): void {
  if (field === FIELD_PPID) out.ppid = value;
  else if (field === FIELD_UTIME) out.ownTicks = value;
  else if (field === FIELD_STIME) out.ownTicks += value;
  else if (field === FIELD_CUTIME) out.reapedChildrenTicks = value;
  else if (field === FIELD_CSTIME) out.reapedChildrenTicks += value;
  else if (field === FIELD_STARTTIME) out.startTime = value;
}

function isNeeded(field: number): boolean {
  return (
    field === FIELD_PPID ||
    (field >= FIELD_UTIME && field <= FIELD_CSTIME) ||
    field === FIELD_STARTTIME
  );
}

/**
 * Parses `/proc/<pid>/stat` straight from bytes into `out` (no strings: it runs for every process
 * on the host, every sample). The command name (field 2) sits in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted from the LAST ')'. False when malformed.
 */
export function parseProcStatBytes(buf: Uint8Array, length: number, out: ProcStat): boolean {
  let close = length - 1;
  while (close > 0 && buf[close] !== CLOSE_PAREN) close--;
  let i = 0;
  let pid = 0;
  while (i < close && buf[i] >= CHAR_0 && buf[i] <= CHAR_9) pid = pid * 10 + buf[i++] - CHAR_0;
  if (i === 0 || buf[i] !== SPACE || buf[i + 1] !== OPEN_PAREN || i + 1 >= close) return false;
  out.pid = pid;
  let field = 3; // state, just after ") "
  for (i = close + 2; field <= FIELD_STARTTIME && i < length; field++, i++) {
    const start = i;
    let value = 0;
    let digits = true;
    for (; i < length && buf[i] !== SPACE && buf[i] !== NEWLINE; i++) {
      digits &&= buf[i] >= CHAR_0 && buf[i] <= CHAR_9;
      value = value * 10 + buf[i] - CHAR_0;
    }
    if (i === start || (isNeeded(field) && !digits)) return false;
    if (field === FIELD_STATE)
      out.zombie = buf[start] === STATE_ZOMBIE || buf[start] === STATE_DEAD;
    else setField(out, field, value);
  }
  return field > FIELD_STARTTIME;
}

/** A ProcStat for parseProcStatBytes to fill: one literal, so a new field is added once. */
export function blankProcStat(): ProcStat {
  return { pid: 0, ppid: 0, ownTicks: 0, reapedChildrenTicks: 0, startTime: 0, zombie: false };
}

const encoder = new TextEncoder();

/** parseProcStatBytes for a line already in a string (tests, a fake /proc). */
export function parseProcStat(text: string): ProcStat | undefined {
  const out = blankProcStat();
  const bytes = encoder.encode(text);
  return parseProcStatBytes(bytes, bytes.length, out) ? out : undefined;
}

export interface ProcFs {
  /** PIDs listed in /proc. */
  pids(): number[];
  /** Reads /proc/<pid>/stat into `out`; false when the process is gone (or the line is bad). */
  readStat(pid: number | 'self', out: ProcStat): boolean;
}

// Field 22 ends within ~400 bytes even with a 64-byte name and 20-digit numbers.
const STAT_BYTES = 1024;

function createRealProcFs(): ProcFs {
  const buf = new Uint8Array(STAT_BYTES);
  // The process's own line is read every sample (ChildrenCpu): kept open (keptFileReader).
  const readSelf = keptFileReader('/proc/self/stat');
  return {
    pids: () =>
      readdirSync('/proc')
        .filter((name) => name.charCodeAt(0) >= CHAR_0 && name.charCodeAt(0) <= CHAR_9)
        .map(Number),
    readStat: (pid, out) => {
      if (pid === 'self') {
        try {
          return parseProcStatBytes(buf, readSelf(buf, STAT_BYTES), out);
        } catch {
          return false; // no /proc, or out of descriptors before its first open
        }
      }
      let fd: number;
      try {
        fd = openSync(`/proc/${pid}/stat`, 'r');
      } catch {
        return false; // exited between the listing and the read
      }
      try {
        return parseProcStatBytes(buf, readSync(fd, buf, 0, STAT_BYTES, 0), out);
      } catch {
        return false; // ESRCH: reaped between open and read
      } finally {
        closeSync(fd);
      }
    },
  };
}

export const realProcFs: ProcFs = createRealProcFs();
