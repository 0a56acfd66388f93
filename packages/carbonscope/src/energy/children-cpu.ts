import { availableParallelism } from 'node:os';
import { type Clock, monotonicClock } from '../clocks.js';
import { blankProcStat, type ProcStat, realProcFs, USER_HZ } from '../proc/index.js';
import { type ChildEvents, type WatchedChild, watchChildExits } from './child-exits.js';
import type { ChildCpuAccount, ChildCpuReader } from './probes.js';

/** Reads /proc/<pid>/stat (or /proc/self/stat) into `out`; false where it cannot. */
export type StatReader = (pid: number | 'self', out: ProcStat) => boolean;

/** Tells its argument of each child's start and exit; returns the stop. */
export type ChildWatch = (events: ChildEvents) => () => void;

export interface ChildrenCpuOptions {
  /** /proc by default; tests script their own. */
  readStat?: StatReader;
  /** watchChildExits (Node's child_process channel) by default; tests script the children. */
  watch?: ChildWatch;
  /** Running children read from /proc per sample (READS_PER_SAMPLE); tests set their own. */
  readsPerSample?: number;
  /**
   * Asked in the spawning call: the account of the operation current there (the tracker's
   * childAccount), undefined where none is measured. Without it no child is charged.
   */
  spawner?: () => ChildCpuAccount | undefined;
  /** Running children whose spawner is kept (MAX_CHARGED_CHILDREN); tests set their own. */
  maxChargedChildren?: number;
  /** When a charged child spawned and exited (monotonicClock); tests script it. */
  clock?: Clock;
  /** The CPUs a child can run on at once (availableParallelism()); tests set their own. */
  cores?: number;
}

/**
 * At most this many running children are read per sample: ~15-20 µs a read. The fewer the reads,
 * the later an unread child's CPU is counted, and counted late it is priced at a later interval's
 * power (64 reads put a pool of 200 children 22 % low in a scripted run): a bound on the cost
 * (4.5-4.8 ms a sample with 500 or 1,000 `sleep` children) that a service with up to 256 running
 * children never meets (the README's "Child processes that are not Node").
 */
export const READS_PER_SAMPLE = 256;

/**
 * At most this many running children keep their spawner's account (and with it the operation,
 * until it is settled or they exit): beyond, a child's CPU is the process's and no operation's,
 * as it was before children were charged. A service of 1,024 children spawned by requests still
 * running is far past what the reads keep up with (READS_PER_SAMPLE).
 */
export const MAX_CHARGED_CHILDREN = 1024;

/** A running child's ticks read so far, and its start time (with the pid, what names it). */
interface Seen {
  ticks: number;
  start: number;
  /** Used CPU between its last two reads (or not read yet): read first. */
  busy: boolean;
  /** Among this sample's reads. */
  due: boolean;
  /** Whose its CPU is: the operation that spawned it, while that one takes more. */
  account: ChildCpuAccount | undefined;
  /** When it spawned (ms), where it has an account. */
  spawnedAt: number;
}

/** A child whose exit was told this pass of the loop: what was read of it, and whose it is. */
interface Exit {
  child: WatchedChild;
  ticks: number;
  account: ChildCpuAccount | undefined;
  /** The most ticks it can have used in all: its time since its spawn × the cores. */
  most: number;
}

/**
 * The CPU time of this process's children: ffmpeg, a Python script, `git`, `sh -c` run for a
 * request spend CPU that process.cpuUsage() never holds.
 *
 * Each child the channel told of is read while it runs (/proc/<pid>/stat: its utime + stime and
 * what it reaped of its own children; every sample up to READS_PER_SAMPLE running children, in
 * turn past them, those busy first), so a long one counts as it goes, not in the one interval
 * it ends in (where the process's share, capped at the host's busy time, would lose most of
 * it). When the process reaps a child (libuv, as it exits) the kernel adds its whole time to
 * this process's cutime + cstime: that growth replaces what was read of it. The growth holds
 * children no channel told of too (`spawnSync`'s), counted at the next sample. A Node child
 * that loads register measures itself (its figures under its own instance): it is not read,
 * and its growth is set aside. A child never reaped (detached and left running, or outliving
 * the process) counts what was read of it. Cost: one /proc read per sample, per running child
 * per sample up to READS_PER_SAMPLE, and per exit (~15 µs each); none per request.
 *
 * Charged to its spawner (see charge): with `spawner`, the account of the operation current in
 * the spawning call is kept with the child (up to MAX_CHARGED_CHILDREN of them), and takes each
 * growth of the child's ticks as it is read, then at its exit what the growth of cutime + cstime
 * holds beyond those reads. Cost per spawn: the spawner's question (an AsyncLocalStorage read).
 */
export class ChildrenCpu implements ChildCpuReader {
  private readonly stat = blankProcStat();
  /** cutime + cstime at the last read. */
  private reaped: number;
  /** Ticks of the reaped children counted (their growth of cutime + cstime). */
  private reapedCounted = 0;
  /**
   * Running children: the ticks read of each so far (counted until it is reaped), and its start
   * time, which with the pid names it (a pid is another process's once reaped).
   */
  private readonly running = new Map<WatchedChild, Seen>();
  /** The running children read this sample: the first in `running`, moved to its end once read. */
  private readonly due: [WatchedChild, Seen][] = [];
  /**
   * The exits told in this pass of the loop and their growth, settled together (settleExits):
   * libuv reaps every child that ended before it tells of the first, in the order they were
   * spawned, so the first told's growth may hold a Node child's under register told after it.
   */
  private readonly exits: Exit[] = [];
  private exitsGrowth = 0;
  private unwatch: (() => void) | undefined;
  /** Running children that hold an account now (≤ maxCharged). */
  private charged = 0;

  private constructor(
    private readonly read: StatReader,
    base: number,
    private readonly readsPerSample: number,
    private readonly spawner: (() => ChildCpuAccount | undefined) | undefined,
    private readonly maxCharged: number,
    private readonly clock: Clock,
    private readonly cores: number,
  ) {
    this.reaped = base;
  }

  /**
   * Counts from now on, watching children until close(); undefined where /proc/self/stat does
   * not read (macOS, Windows: there the children's CPU is the host's only).
   */
  static open(options: ChildrenCpuOptions = {}): ChildrenCpu | undefined {
    const read = options.readStat ?? realProcFs.readStat;
    const stat = blankProcStat();
    if (!read('self', stat)) return undefined;
    const reads = Math.max(1, Math.floor(options.readsPerSample ?? READS_PER_SAMPLE));
    const charged = Math.max(0, options.maxChargedChildren ?? MAX_CHARGED_CHILDREN);
    const base = stat.reapedChildrenTicks;
    const clock = options.clock ?? monotonicClock;
    const cores = Math.max(1, options.cores ?? availableParallelism());
    const reader = new ChildrenCpu(read, base, reads, options.spawner, charged, clock, cores);
    reader.unwatch = (options.watch ?? watchChildExits)({
      started: (child) => reader.started(child),
      exited: (child) => reader.exited(child),
    });
    return reader;
  }

  /** Stops watching children. */
  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Cumulative CPU seconds of the children counted since open(). */
  seconds(): number {
    this.settleExits();
    // Growth no exit claimed: spawnSync's children, one the channel did not tell of.
    this.reapedCounted += this.growth() ?? 0;
    return (this.reapedCounted + this.liveTicks()) / USER_HZ;
  }

  /**
   * The running children's ticks, readsPerSample of them read now: up to half those that used
   * CPU between their last two reads (a worker busy now), then the others in turn, the least
   * lately read first (a read moves its child to the end of `running`), so that none waits more
   * than ⌈running / (readsPerSample - half)⌉ samples however many are busy; the rest as last read.
   */
  private liveTicks(): number {
    const { due, readsPerSample } = this;
    const busyFirst = Math.floor(readsPerSample / 2);
    for (const [child, seen] of this.running) {
      if (!this.stillRunning(child) || !seen.busy || due.length === busyFirst) continue;
      if (!child.metersItself()) this.markDue(child, seen);
      else this.release(seen); // never read: its spawner is not held for it
    }
    for (const [child, seen] of this.running) {
      if (due.length === readsPerSample) break;
      if (!seen.due && !child.metersItself()) this.markDue(child, seen);
    }
    for (const [child, seen] of due) {
      this.readRunning(child, seen);
      seen.due = false;
      if (this.running.delete(child)) this.running.set(child, seen);
    }
    due.length = 0;
    let live = 0;
    for (const seen of this.running.values()) live += seen.ticks;
    return live;
  }

  private markDue(child: WatchedChild, seen: Seen): void {
    seen.due = true;
    this.due.push([child, seen]);
  }

  /** In the spawning call: the operation current there is whose its CPU is, room allowing. */
  private started(child: WatchedChild): void {
    const account = this.charged < this.maxCharged ? this.spawner?.() : undefined;
    const spawnedAt = account ? this.clock() : 0;
    if (account) this.charged++;
    this.running.set(child, { ticks: 0, start: -1, busy: true, due: false, account, spawnedAt });
  }

  /** Takes a child out of the running ones, its account with it; returns what it was. */
  private forget(child: WatchedChild): Seen | undefined {
    const seen = this.running.get(child);
    if (!seen) return undefined;
    this.running.delete(child);
    if (seen.account) this.charged--;
    return seen;
  }

  /**
   * Charges a running child's spawner `ticks` more of its CPU; one settled takes nothing more,
   * and is let go (that CPU stays the process's, no operation's) even where the child used none
   * since (an idle daemon would else hold its room and the operation for as long as it runs).
   */
  private charge(seen: Seen, ticks: number): void {
    const account = seen.account;
    if (!account) return;
    if (account.closed) this.release(seen);
    else if (ticks > 0) account.childMs += (ticks * 1000) / USER_HZ;
  }

  /** Lets go of a running child's spawner: its CPU is no operation's from now on. */
  private release(seen: Seen): void {
    if (!seen.account) return;
    seen.account = undefined;
    this.charged--;
  }

  /** False (and dropped) where its spawn failed or it was reaped with its exit unheard. */
  private stillRunning(child: WatchedChild): boolean {
    // No pid after the spawn call returned: it failed (ENOENT), and no exit will come. Reaped
    // with its exit unheard (the application removed every 'exit' listener): its growth of
    // cutime + cstime, read before this, holds what was read of it (no operation's).
    if (child.pid() !== undefined && !child.ended()) return true;
    this.forget(child);
    return false;
  }

  /** Reads a running child's ticks so far into `seen` (kept as they were where it cannot be read). */
  private readRunning(child: WatchedChild, seen: Seen): void {
    const pid = child.pid();
    if (pid === undefined || !this.read(pid, this.stat)) return;
    const { startTime } = this.stat;
    if (seen.start >= 0 && startTime !== seen.start) {
      // Reaped with its exit unheard (the application removed every 'exit' listener): the pid
      // is another process's. Its growth of cutime + cstime counts at the next read.
      this.forget(child);
      return;
    }
    seen.start = startTime;
    const ticks = this.stat.ownTicks + this.stat.reapedChildrenTicks;
    seen.busy = ticks > seen.ticks;
    this.charge(seen, ticks - seen.ticks);
    seen.ticks = Math.max(seen.ticks, ticks);
  }

  /**
   * A child's exit, synchronously after libuv reaped it: cutime + cstime grew by its whole time
   * (with that of any other reaped in the same pass), which replaces what was read of it while
   * it ran. Counted once the pass's other exits are told (settleExits).
   */
  private exited(child: WatchedChild): void {
    const seen = this.forget(child);
    this.exitsGrowth += this.growth() ?? 0;
    const account = seen?.account;
    const ticks = seen?.ticks ?? 0;
    // The growth holds whatever was reaped since the last read: spawnSync's children too.
    const most = account
      ? ((this.clock() - (seen?.spawnedAt ?? 0)) * this.cores * USER_HZ) / 1000
      : 0;
    this.exits.push({ child, ticks, account, most });
    // After the poll phase that told the exits, before the next sample's timer.
    if (this.exits.length === 1) setImmediate(() => this.settleExits()).unref();
  }

  /** Counts the growth of the exits told, unless one of them meters itself: all set aside. */
  private settleExits(): void {
    const { exits } = this;
    if (exits.length === 0) return;
    if (!exits.some((exit) => exit.child.metersItself())) {
      this.reapedCounted += this.exitsGrowth;
      this.chargeExits();
    }
    exits.length = 0;
    this.exitsGrowth = 0;
  }

  /**
   * What the exits' growth holds beyond what was read of them while they ran goes to their
   * spawners (those not settled yet): one exit's rest to its own. Several reaped in one pass
   * share one growth, and what each used since its last read is not known: the rest is split
   * equally among them (one spawner's children alike, a request's ffmpeg and convert). The
   * growth may hold children no exit told of (a `spawnSync`'s, reaped in its call): each takes
   * no more than it can have used, its time since its spawn × the cores, less what was read.
   */
  private chargeExits(): void {
    const { exits } = this;
    let read = 0;
    for (const exit of exits) read += exit.ticks;
    const rest = this.exitsGrowth - read;
    if (!(rest > 0)) return;
    const each = rest / exits.length;
    for (const { account, ticks, most } of exits) {
      const own = Math.min(each, most - ticks);
      if (account && !account.closed && own > 0) account.childMs += (own * 1000) / USER_HZ;
    }
  }

  /** cutime + cstime's growth since the last read; undefined where the read fails. */
  private growth(): number | undefined {
    if (!this.read('self', this.stat)) return undefined;
    const ticks = this.stat.reapedChildrenTicks;
    const growth = Math.max(0, ticks - this.reaped);
    this.reaped = Math.max(ticks, this.reaped);
    return growth;
  }
}
