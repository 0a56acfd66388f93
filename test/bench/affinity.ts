/**
 * Which CPUs a process may run on, set with util-linux's `taskset` (Linux). The simultaneous
 * rounds put the servers they compare on one CPU and the load generator on the others, so
 * that the servers share the same core at the same moments.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface CpuSplit {
  /** For the load generator (this process): every CPU but the last, e.g. `0-6`. */
  load: string;
  /** For the servers: the last CPU. */
  servers: string;
}

/** How `count` CPUs are split; undefined with one CPU (nothing to split). */
export function cpuSplit(count = cpus().length): CpuSplit | undefined {
  if (!(count >= 2)) return undefined;
  const last = count - 1;
  return { load: last === 1 ? '0' : `0-${last - 1}`, servers: String(last) };
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
