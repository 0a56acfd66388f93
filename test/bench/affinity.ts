/**
 * Which CPUs a process may run on, set with util-linux's `taskset` (Linux). The simultaneous
 * rounds put the servers they compare on one CPU and the load generator on the others, so
 * that the servers share the same core at the same moments.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuSplit {
  /** For the load generator (this process): every allowed CPU but the last, e.g. `0-6`. */
  load: string;
  /** For the servers: the last allowed CPU. */
  servers: string;
}

/**
 * How the CPUs in `allowed` (a list as /proc gives it: `0-7`, `2-3`, `0,2,4-5`) are split;
 * undefined with fewer than two (nothing to split). The split is of what this process may use,
 * not of the machine: in a container given CPUs 2-3, "the last CPU" is 3 and the load gets 2.
 */
export function cpuSplit(allowed: string | undefined): CpuSplit | undefined {
  const listed = allowed ? cpusIn(allowed) : [];
  if (listed.length < 2) return undefined;
  const last = listed[listed.length - 1];
  return { load: cpuList(listed.slice(0, -1)), servers: String(last) };
}

/** The CPU numbers of a list (`0,2,4-5`), ascending, each once. */
function cpusIn(list: string): number[] {
  const found = new Set<number>();
  for (const part of list.split(',')) {
    const [from, to = from] = part.split('-').map(Number);
    for (let cpu = from; cpu <= to; cpu++) found.add(cpu);
  }
  return [...found].sort((a, b) => a - b);
}

/** Ascending CPU numbers as /proc writes them (runs as `a-b`), so pin()'s check matches. */
function cpuList(sorted: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return runs.join(',');
}

/** The CPUs process `pid` may run on, as /proc lists them (`0-1`); undefined if unreadable. */
export function allowedCpus(pid: number): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Pins process `pid` and all its threads to `list`, in the form /proc gives it back (`0`,
 * `0-6`). Checked there: `taskset -a` exits 0 for a process that is not there, pinning nothing.
 */
export function pin(pid: number, list: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'taskset (util-linux) is missing: the simultaneous rounds pin the servers to one CPU',
      );
    }
  }
  if (allowedCpus(pid) !== list) {
    throw new Error(`taskset could not pin process ${pid} to CPUs ${list}`);
  }
}
