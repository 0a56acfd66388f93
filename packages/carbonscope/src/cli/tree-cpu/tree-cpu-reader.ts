import { USER_HZ } from '../../energy/host-cpu.js';

/** How the CPU time of a command's process tree is read, in words for the summary. */
export type TreeCpuMethod = 'proc' | 'ps' | 'unavailable';

export const TREE_CPU_METHOD_TEXT: Record<TreeCpuMethod, string> = {
  proc: 'CPU time of the whole process tree from /proc (each process while in it; exited ones once reaped)',
  ps: 'CPU time of the process tree from ps; a descendant that exits between samples loses its last interval',
  unavailable:
    'no way to read a child process CPU time on this platform: process energy is not known',
};

/**
 * What a command CPU time of 0 means: less than the reader resolves, not none. /proc counts in
 * ticks of 1/USER_HZ s (10 ms); macOS and BSD ps print hundredths of a second, and never see a
 * command that starts and ends between two samples.
 */
export const TREE_CPU_ZERO_TEXT: Record<Exclude<TreeCpuMethod, 'unavailable'>, string> = {
  proc: `under ${1000 / USER_HZ} ms of CPU: below /proc's resolution, not measured`,
  ps: 'no CPU time seen by ps (under its 10 ms resolution, or ended between samples): not measured',
};

export interface TreeCpuReader {
  readonly method: TreeCpuMethod;
  /** Cumulative CPU seconds of the tree since its root was set (0 before); never goes down. */
  read(): number;
  /** Which process is the root of the tree (set once the command is spawned). */
  setRoot(pid: number): void;
}
