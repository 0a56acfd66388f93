import { availableParallelism, cpus } from 'node:os';

/**
 * The machine's logical CPUs: os.cpus(), or where it lists none (a /proc without /proc/stat and
 * /proc/cpuinfo, mounted subset=pid as systemd's ProcSubset=pid does), the CPUs this process may
 * run on (sched_getaffinity), which a cpuset cuts but which is nearer than 1.
 */
export function logicalCpus(list: () => readonly unknown[] = cpus): number {
  return list().length || Math.max(1, availableParallelism());
}
