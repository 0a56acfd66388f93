import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { USER_HZ } from '../energy/host-cpu.js';

/** How the CPU time of a command's process tree is read, in words for the summary. */
export type TreeCpuMethod = 'proc' | 'ps' | 'unavailable';

export const TREE_CPU_METHOD_TEXT: Record<TreeCpuMethod, string> = {
  proc: 'CPU time of the whole process tree from /proc (exited descendants included once reaped)',
  ps: 'CPU time of the process tree from ps; a descendant that exits between samples loses its last interval',
  unavailable:
    'no way to read a child process CPU time on this platform: process energy is not known',
};

/** One line of /proc/<pid>/stat, the fields the tree walk needs; times in ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process (all its threads). */
  ownTicks: number;
  /** cutime + cstime: children it has waited for, with their own reaped children. */
  reapedChildrenTicks: number;
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) sits in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted from the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  if (f.length < 15) return undefined;
  const ppid = Number(f[1]);
  const ownTicks = Number(f[11]) + Number(f[12]);
  const reapedChildrenTicks = Number(f[13]) + Number(f[14]);
  if (![pid, ppid, ownTicks, reapedChildrenTicks].every(Number.isFinite)) return undefined;
  return { pid, ppid, ownTicks, reapedChildrenTicks };
}

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

export interface ProcFs {
  /** PIDs listed in /proc. */
  pids(): number[];
  /** The text of /proc/<pid>/stat, undefined when the process is gone. */
  stat(pid: number | 'self'): string | undefined;
}

export const realProcFs: ProcFs = {
  pids: () =>
    readdirSync('/proc')
      .filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57)
      .map(Number),
  stat: (pid) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined; // exited between the listing and the read
    }
  },
};

export interface TreeCpuReader {
  readonly method: TreeCpuMethod;
  /** Cumulative CPU seconds of the tree since its root was set (0 before); never goes down. */
  read(): number;
  /** Which process is the root of the tree (set once the command is spawned). */
  setRoot(pid: number): void;
}

/**
 * The CPU time of a command and all its descendants, on Linux.
 *
 * Live processes of the tree count with utime+stime+cutime+cstime. When one exits and its parent
 * reaps it, its whole time moves into the parent's cutime/cstime, so nothing is lost or counted
 * twice. The command itself is reaped by this process, so its final time shows up in OUR
 * cutime/cstime: the reader adds the growth of ours since the root was set. (Both are read in one
 * synchronous call, and Node reaps children only from its event loop, so a reap cannot fall
 * between the two reads.) Orphans re-parented away from the tree leave it; their time after that
 * is not counted.
 */
export function createProcTreeCpuReader(fs: ProcFs = realProcFs): TreeCpuReader {
  const selfReaped = (): number => parseProcStat(fs.stat('self') ?? '')?.reapedChildrenTicks ?? 0;
  let baseline = 0;
  let root: number | undefined;
  let highest = 0;
  return {
    method: 'proc',
    setRoot(pid) {
      // Taken here, not when the reader is made: the energy sources spawn their own probes
      // (nvidia-smi, powermetrics) in between, and their reaped time is not the command's.
      baseline = selfReaped();
      root = pid;
    },
    read() {
      if (root === undefined) return highest;
      let ticks = selfReaped() - baseline;
      const stats = new Map<number, ProcStat>();
      const parents = new Map<number, number>();
      for (const pid of fs.pids()) {
        const stat = parseProcStat(fs.stat(pid) ?? '');
        if (!stat) continue;
        stats.set(pid, stat);
        parents.set(pid, stat.ppid);
      }
      for (const pid of descendantsOf(root, parents)) {
        const s = stats.get(pid);
        if (s) ticks += s.ownTicks + s.reapedChildrenTicks;
      }
      // A tree member can vanish between the listing and its read; never report less than before.
      highest = Math.max(highest, ticks / USER_HZ);
      return highest;
    },
  };
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

/** `pid ppid time` lines of `ps -A -o pid=,ppid=,time=` into a table. */
export function parsePsTable(text: string): Map<number, { ppid: number; seconds: number }> {
  const table = new Map<number, { ppid: number; seconds: number }>();
  for (const line of text.split('\n')) {
    const [pid, ppid, time] = line.trim().split(/\s+/);
    const seconds = time === undefined ? undefined : parsePsTime(time);
    if (seconds === undefined || !Number.isFinite(Number(pid))) continue;
    table.set(Number(pid), { ppid: Number(ppid), seconds });
  }
  return table;
}

/**
 * Fallback for systems without /proc (macOS, the BSDs): one `ps` call per sample. A process's
 * last seen time is kept after it exits, so only its time after the last sample is lost.
 */
export function createPsTreeCpuReader(
  runPs: () => string = () =>
    execFileSync('ps', ['-A', '-o', 'pid=,ppid=,time='], { encoding: 'utf8' }),
): TreeCpuReader {
  let root: number | undefined;
  const lastSeen = new Map<number, number>();
  let highest = 0;
  return {
    method: 'ps',
    setRoot(pid) {
      root = pid;
    },
    read() {
      if (root === undefined) return highest;
      const table = parsePsTable(runPs());
      const parents = new Map([...table].map(([pid, row]) => [pid, row.ppid]));
      for (const pid of descendantsOf(root, parents)) {
        const seconds = table.get(pid)?.seconds ?? 0;
        lastSeen.set(pid, Math.max(lastSeen.get(pid) ?? 0, seconds));
      }
      let sum = 0;
      for (const seconds of lastSeen.values()) sum += seconds;
      highest = Math.max(highest, sum);
      return highest;
    },
  };
}

/** A reader for platforms with neither: always 0, and the summary says process energy is unknown. */
export function createUnavailableTreeCpuReader(): TreeCpuReader {
  return { method: 'unavailable', setRoot() {}, read: () => 0 };
}

/** The best reader for this platform: /proc, else ps, else none. */
export function createTreeCpuReader(platform: NodeJS.Platform = process.platform): TreeCpuReader {
  if (platform === 'linux' || platform === 'android') return createProcTreeCpuReader();
  if (platform === 'win32') return createUnavailableTreeCpuReader();
  try {
    execFileSync('ps', ['-o', 'pid=', '-p', String(process.pid)], { stdio: 'ignore' });
    return createPsTreeCpuReader();
  } catch {
    return createUnavailableTreeCpuReader();
  }
}
