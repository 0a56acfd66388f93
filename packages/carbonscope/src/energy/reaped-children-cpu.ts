import { blankProcStat, type ProcStat, realProcFs, USER_HZ } from '../proc/index.js';
import { watchChildExits } from './child-exits.js';
import type { ChildCpuReader } from './probes.js';

/** Reads this process's /proc/self/stat into `out`; false where it cannot (not Linux). */
export type SelfStatReader = (out: ProcStat) => boolean;

/** Calls its argument as each child exits, with whether it meters itself; returns the stop. */
export type ChildExitWatch = (onExit: (metersItself: boolean) => void) => () => void;

export interface ReapedChildrenCpuOptions {
  /** /proc/self/stat by default; tests script their own. */
  readStat?: SelfStatReader;
  /** watchChildExits (Node's child_process channel) by default; tests script the exits. */
  watch?: ChildExitWatch;
}

const readSelfStat: SelfStatReader = (out) => realProcFs.readStat('self', out);

/**
 * The CPU time of this process's children once it has reaped them: the kernel adds a child's
 * utime + stime, and what it reaped of its own children, to the parent's cutime + cstime when the
 * parent waits for it (libuv does as the child exits). ffmpeg, a Python script, `git`, `sh -c`
 * run for a request spend CPU that process.cpuUsage() never holds.
 *
 * A child that meters itself (a Node child that loads register too, its figures under its own
 * instance) must not count twice: the growth read as it exits (childExited) is set aside.
 * Counted in the interval it is reaped in; one still running at a sample counts at its exit, and
 * one the process never waits for (detached and unref'd, or outliving the process) not at all.
 * One read of /proc/self/stat per sample and per child exit (~10 µs), none per request.
 */
export class ReapedChildrenCpu implements ChildCpuReader {
  private readonly stat = blankProcStat();
  private last: number;
  private setAside = 0;
  private unwatch: (() => void) | undefined;

  private constructor(
    private readonly read: SelfStatReader,
    private readonly base: number,
  ) {
    this.last = base;
  }

  /**
   * Counts from now on, watching child exits until close(); undefined where /proc/self/stat
   * does not read (macOS, Windows: there the children's CPU is the host's only).
   */
  static open(options: ReapedChildrenCpuOptions = {}): ReapedChildrenCpu | undefined {
    const read = options.readStat ?? readSelfStat;
    const stat = blankProcStat();
    if (!read(stat)) return undefined;
    const reader = new ReapedChildrenCpu(read, stat.reapedChildrenTicks);
    reader.unwatch = (options.watch ?? watchChildExits)((self) => reader.childExited(self));
    return reader;
  }

  /** Stops watching child exits. */
  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /**
   * Told synchronously in a child's 'exit' (libuv reaped it just before): what the children's
   * time grew by since the last read is that child's, with any other reaped in the same pass.
   * `metersItself`: set aside, as its own register counts it.
   */
  childExited(metersItself: boolean): void {
    const now = this.ticks();
    if (now === undefined) return;
    if (metersItself) this.setAside += now - this.last;
    this.last = now;
  }

  /** Cumulative CPU seconds of the reaped children counted since open(). */
  seconds(): number {
    const now = this.ticks();
    if (now !== undefined) this.last = now;
    return (this.last - this.base - this.setAside) / USER_HZ;
  }

  /** cutime + cstime now; undefined where the read fails or went back (never expected). */
  private ticks(): number | undefined {
    if (!this.read(this.stat)) return undefined;
    const ticks = this.stat.reapedChildrenTicks;
    return ticks >= this.last ? ticks : undefined;
  }
}
