import { USER_HZ } from '../proc/index.js';

/** How the CPU time of a command's process tree is read, in words for the summary. */
export type TreeCpuMethod = 'proc' | 'ps' | 'unavailable';

export const TREE_CPU_METHOD_TEXT: Record<TreeCpuMethod, string> = {
  proc: 'CPU time of the whole process tree from /proc (each process while in it; exited ones once reaped)',
  ps: 'CPU time of the process tree from ps; a descendant that exits between samples loses its last interval',
  unavailable:
    'no way to read a child process CPU time on this platform: process energy is not known',
};

/** The readers that read anything: the CPU time of a command is measured by one of these. */
export type TreeCpuClock = Exclude<TreeCpuMethod, 'unavailable'>;

/**
 * The step of each reader's clock, in seconds: /proc counts in ticks of 1/USER_HZ s (10 ms);
 * macOS and BSD ps print hundredths of a second.
 */
export const TREE_CPU_RESOLUTION_SECONDS: Record<TreeCpuClock, number> = {
  proc: 1 / USER_HZ,
  ps: 0.01,
};

/**
 * Whether a command's CPU time as read is a measurement: more than one step of the clock. Zero
 * steps is less than the clock resolves, not none; one step is no better: the kernel's tick
 * accounting hands a reaped child a whole tick for far less (about 1 run of `true` in 10 reads
 * one), so the figure may be off by all of itself. Readings are whole steps: more than one step
 * is two or more, and halfway between keeps float sums (0.01 + 0.01) on the right side.
 */
export function treeCpuMeasured(seconds: number, resolutionSeconds: number): boolean {
  return seconds >= 1.5 * resolutionSeconds;
}

/** What a command CPU time of one step or less means: too little to measure, not none. */
export const TREE_CPU_UNMEASURED_TEXT: Record<TreeCpuClock, string> = {
  proc: `at most ${1000 / USER_HZ} ms of CPU: within /proc's ${1000 / USER_HZ} ms resolution, not measured`,
  ps: 'at most 10 ms of CPU seen by ps (its resolution; a process that ended between samples is not seen): not measured',
};

/**
 * Why a reader's figure is a lower bound, for the readers whose is: ps sees a process's time
 * only while it is listed, so what one spends after the last sample before it ends is lost.
 */
export const TREE_CPU_LOWER_BOUND_TEXT: Partial<Record<TreeCpuClock, string>> = {
  ps: "ps sees no CPU time a process spends after the last sample before it ends (the command's own included): the command's figures are lower bounds",
};

export interface TreeCpuReader {
  readonly method: TreeCpuMethod;
  /** Cumulative CPU seconds of the tree since its root was set (0 before); never goes down. */
  read(): number;
  /** Which process is the root of the tree (set once the command is spawned). */
  setRoot(pid: number): void;
  /**
   * Whether `pid` was in the tree at the latest read(): there then, or found gone or gone out
   * of it by that read (so what it did up to its end is still the command's).
   */
  inTree(pid: number): boolean;
  /**
   * How many processes of the tree were found outside it still running (re-parented: orphaned
   * or daemonized), the command's own children left behind as it ended included: their CPU
   * time from then on is not counted, and nothing waits for them. One that left and ended
   * between two reads, or before the first, is not seen; nor is a zombie (ended, not reaped by
   * whoever it was re-parented to): it is not running.
   */
  leftRunning(): number;
}
