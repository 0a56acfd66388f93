import { execFileSync } from 'node:child_process';
import type { TreeCpuReader } from '../tree-cpu-reader.js';

/** Every PID reachable from `root` through ppid links (root included when present). */
export function descendantsOf(root: number, parents: ReadonlyMap<number, number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const found = new Set<number>();
  const stack = parents.has(root) ? [root] : [];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (found.has(pid)) continue;
    found.add(pid);
    for (const child of children.get(pid) ?? []) stack.push(child);
  }
  return found;
}

/**
 * Parses a `ps -o time` value: `[[dd-]hh:]mm:ss[.ss]` (procps prints `hh:mm:ss`, BSD and macOS
 * `m:ss.ss`). Returns seconds, undefined when the text is not a time.
 */
export function parsePsTime(text: string): number | undefined {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:[.,]\d+)?)$/.exec(text.trim());
  if (!m) return undefined;
  const [, days = '0', hours = '0', minutes, seconds] = m;
  return (
    Number(days) * 86_400 +
    Number(hours) * 3600 +
    Number(minutes) * 60 +
    Number(seconds.replace(',', '.'))
  );
}

/** One process as `ps -A -o pid=,ppid=,state=,time=,lstart=` lists it. */
export interface PsRow {
  pid: number;
  ppid: number;
  /** State Z: it has ended and waits to be reaped; its time is final. */
  zombie: boolean;
  /** CPU time, user + system. */
  seconds: number;
  /** Start time as ps prints it (the locale's date, kept as text): with the pid, who it is. */
  started: string;
}

/** The columns `ps` is asked for: the start time last, as its text holds spaces. */
export const PS_COLUMNS = 'pid=,ppid=,state=,time=,lstart=';

/** Lines of `ps -A -o pid=,ppid=,state=,time=,lstart=` into a table by pid. */
export function parsePsTable(text: string): Map<number, PsRow> {
  const table = new Map<number, PsRow>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
    const seconds = m ? parsePsTime(m[4]) : undefined;
    if (!m || seconds === undefined) continue;
    // procps prints the state alone (Z), macOS and the BSDs with flags after it (Z+, Ss).
    const zombie = m[3].startsWith('Z');
    const started = m[5].replace(/\s+/g, ' ');
    table.set(Number(m[1]), { pid: Number(m[1]), ppid: Number(m[2]), zombie, seconds, started });
  }
  return table;
}

/** A process across samples: its pid and its start time, since a pid is reused. */
function processKey(row: PsRow): string {
  return `${row.pid}@${row.started}`;
}

/**
 * The CPU seconds the tree of `root` gained since the last sample, given each member's time then
 * (`seen`, by pid and start time), and the members' times now. A process seen for the first time
 * counts from its start; one that left the tree is dropped, its counted time kept by the caller.
 */
export function treeGrowth(
  root: PsRow,
  table: ReadonlyMap<number, PsRow>,
  seen: ReadonlyMap<string, number>,
): { seconds: number; seen: Map<string, number>; members: Set<number> } {
  const parents = new Map([...table].map(([pid, row]) => [pid, row.ppid]));
  const now = new Map<string, number>();
  let seconds = 0;
  const members = descendantsOf(root.pid, parents);
  for (const pid of members) {
    const row = table.get(pid) as PsRow;
    const key = processKey(row);
    const before = seen.get(key) ?? 0;
    seconds += Math.max(row.seconds - before, 0);
    now.set(key, Math.max(row.seconds, before));
  }
  return { seconds, seen: now, members };
}

/**
 * The members of the tree before that are still listed, the same process, running, but not in it
 * now (a zombie has ended: nothing reaped it yet).
 */
function leftSince(
  before: ReadonlySet<number>,
  now: ReadonlySet<number>,
  table: ReadonlyMap<number, PsRow>,
  seen: ReadonlyMap<string, number>,
): number {
  let left = 0;
  for (const pid of before) {
    const row = table.get(pid);
    if (row && !row.zombie && !now.has(pid) && seen.has(processKey(row))) left++;
  }
  return left;
}

/**
 * Fallback for systems without /proc (macOS, the BSDs): one `ps` call per sample. Each process is
 * known by its pid and start time, so a pid reused by a new process counts that process from its
 * start; the growth of each member is added up, so a process that exits keeps the time seen up to
 * the last sample and only its time after that is lost.
 */
export function createPsTreeCpuReader(
  runPs: () => string = () => execFileSync('ps', ['-A', '-o', PS_COLUMNS], { encoding: 'utf8' }),
): TreeCpuReader {
  let rootPid: number | undefined;
  /** The command's own row, once seen: a later process on its pid is not the command. */
  let root: PsRow | undefined;
  let seen = new Map<string, number>();
  let total = 0;
  /** The tree at the latest read that found the command (ps lists no process that is gone). */
  let members: ReadonlySet<number> = new Set();
  let left = 0;
  let ended = false;
  return {
    method: 'ps',
    setRoot(pid) {
      rootPid = pid;
    },
    inTree: (pid) => members.has(pid),
    leftRunning: () => left,
    read() {
      if (rootPid === undefined) return total;
      const table = parsePsTable(runPs());
      const row = table.get(rootPid);
      root ??= row;
      // Once the command has ended, what is left of its tree was orphaned: not the command's.
      if (!root || !row || row.started !== root.started) {
        // Counted once: the children it left behind, found at the first read without it.
        if (root && !ended) left += leftSince(members, new Set(), table, seen);
        ended = root !== undefined;
        return total;
      }
      const grown = treeGrowth(root, table, seen);
      left += leftSince(members, grown.members, table, seen);
      seen = grown.seen;
      members = grown.members;
      total += grown.seconds;
      return total;
    },
  };
}
