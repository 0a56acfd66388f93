/** How the CPU time of a command's process tree is read, in words for the summary. */
export type TreeCpuMethod = 'proc' | 'ps' | 'unavailable';

export const TREE_CPU_METHOD_TEXT: Record<TreeCpuMethod, string> = {
  proc: 'CPU time of the whole process tree from /proc (each process while in it; exited ones once reaped)',
  ps: 'CPU time of the process tree from ps; a descendant that exits between samples loses its last interval',
  unavailable:
    'no way to read a child process CPU time on this platform: process energy is not known',
};

export interface TreeCpuReader {
  readonly method: TreeCpuMethod;
  /** Cumulative CPU seconds of the tree since its root was set (0 before); never goes down. */
  read(): number;
  /** Which process is the root of the tree (set once the command is spawned). */
  setRoot(pid: number): void;
}
