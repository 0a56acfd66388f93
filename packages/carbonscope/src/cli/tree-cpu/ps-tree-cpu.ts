import { execFileSync } from 'node:child_process';
import type { TreeCpuReader } from './tree-cpu-reader.js';

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
