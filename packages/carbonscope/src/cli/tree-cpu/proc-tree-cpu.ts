import {
  blankProcStat,
  type ProcFs,
  type ProcStat,
  realProcFs,
  USER_HZ,
} from '../../proc/index.js';
import type { TreeCpuReader } from '../tree-cpu-reader.js';
import { Membership, ProcSnapshot, type Snap } from './proc-snapshot.js';

/** Where a process seen in the previous read stands now. */
enum Seen {
  /** Still in the tree. */
  Present,
  /** Still running, outside the tree: re-parented to init or a subreaper. */
  Left,
  /**
   * Outside the tree and ended, not yet reaped: a zombie where nothing reaps orphans (we are
   * PID 1, or there is no init), or one init has not reaped yet. Its time is final: not running,
   * and what it used since the last read still counts (no cutime in the tree will hold it).
   */
  Ended,
  /** Gone from /proc (reaped), or its pid now names another process. */
  Vanished,
}

/**
 * Whether a tracked process's growth since the last read counts: while in the tree, and once
 * more when found ended outside it. A child whose parent exits without waiting for it is
 * re-parented as a zombie; its last part, used in the tree, is in no cutime of the tree, and
 * unless it is read now it is lost when it is reaped. (One that left running and ended in the
 * same interval counts whole too: the two are not told apart, and a zombie's time is final.)
 */
function hasFinalPart(t: Tracked): boolean {
  return t.seen === Seen.Present || t.seen === Seen.Ended;
}

/** A process of the tree as last read; times in ticks. */
interface Tracked {
  pid: number;
  start: number;
  ownTicks: number;
  reapedChildrenTicks: number;
  /** Its tree parent as last read; null for the root, whose parent is this process. */
  parent: Tracked | null;
  seen: Seen;
  /** Ticks of vanished descendants counted already that its cutime/cstime will hold. */
  credit: number;
  /** The part of `credit` whose vanishing was seen after this process's stat was read. */
  lateCredit: number;
  /** Late credit its cutime/cstime did not show yet: taken from the next read's growth. */
  carried: number;
}

/**
 * The CPU time of a command and all its descendants, on Linux.
 *
 * Each process counts with the growth of utime+stime+cutime+cstime since it was last read (all
 * of it when first seen), keyed by pid and start time. What was counted stays counted: a process
 * that leaves the tree (re-parented to init, or reaped where nobody in the tree waits) keeps it,
 * and its time after that is not counted; one found outside it as a zombie counts its last part
 * (hasFinalPart). One reaped outside the tree between two reads loses its last part: gone from
 * /proc, it can no longer be read. When a parent reaps a child, the kernel adds the child's
 * whole time to the parent's cutime/cstime: the time counted for the child is then taken back from
 * the parent's growth (never below zero), so only the child's last, unread part is added. The
 * command itself is reaped by this process: its last part comes from OUR cutime/cstime, read once
 * when it is gone (our cutime grows too when a power probe we spawned ends: that is not counted).
 *
 * Ordering: the kernel adds to the parent's cutime before the child leaves /proc. A parent's stat
 * read before its child is found gone may lack the child: the credit waits one read. A child read
 * before its parent (pids wrapped) is read again after it, so a reap in between is seen.
 */
class ProcTreeCpuReader implements TreeCpuReader {
  readonly method = 'proc' as const;
  private ticks = 0;
  private root: number | undefined;
  private rootStart: number | undefined;
  private rootGone = false;
  private left = 0;
  private selfReaped = 0;
  private selfCredit = 0;
  private readonly tracked = new Map<number, Tracked>();
  /** The pids of the tree at the latest read, those found gone or gone out by it included. */
  private readonly members = new Set<number>();
  private readonly snapshot: ProcSnapshot;
  private readonly scratch: ProcStat = blankProcStat();

  constructor(private readonly fs: ProcFs) {
    this.snapshot = new ProcSnapshot(fs);
  }

  setRoot(pid: number): void {
    // Taken here, not when the reader is made: the energy sources spawn their own probes
    // (nvidia-smi, powermetrics) in between, and their reaped time is not the command's.
    this.selfReaped = this.readSelfReaped() ?? 0;
    this.root = pid;
    this.rootStart = this.fs.readStat(pid, this.scratch) ? this.scratch.startTime : undefined;
  }

  read(): number {
    if (this.root !== undefined && !this.rootGone) this.sample(this.root);
    return this.ticks / USER_HZ;
  }

  inTree(pid: number): boolean {
    return this.members.has(pid);
  }

  leftRunning(): number {
    return this.left;
  }

  private sample(root: number): void {
    this.snapshot.load();
    this.rereadChildrenReadBeforeParents();
    // After the listing: a command found gone there has been reaped, into this cutime.
    const selfReaped = this.readSelfReaped() ?? this.selfReaped;
    this.selfCredit = 0;
    this.classifyTracked();
    for (const t of this.tracked.values()) {
      if (t.seen === Seen.Vanished) this.creditAncestor(t);
      else if (t.seen === Seen.Left) this.left++;
    }
    for (const t of this.tracked.values()) if (hasFinalPart(t)) this.countGrowth(t);
    this.countNewcomers();
    if (this.isInTree(root)) {
      this.selfReaped = selfReaped;
    } else {
      this.ticks += Math.max(0, selfReaped - this.selfReaped - this.selfCredit);
      this.rootGone = true; // its descendants left with it: nothing more is the command's
    }
    this.members.clear();
    for (const pid of this.tracked.keys()) this.members.add(pid);
    for (const [pid, t] of this.tracked)
      if (t.seen !== Seen.Present || this.rootGone) this.tracked.delete(pid);
  }

  private readSelfReaped(): number | undefined {
    return this.fs.readStat('self', this.scratch) ? this.scratch.reapedChildrenTicks : undefined;
  }

  /** Whether `pid` descends from the root, by ppid links; remembered for this read. */
  private isInTree(pid: number): boolean {
    const { stats } = this.snapshot;
    let answer = false;
    for (let p = pid, steps = 0; steps <= stats.size; steps++) {
      const s = stats.get(p);
      if (!s) break;
      if (s.membership !== Membership.Unknown) {
        answer = s.membership === Membership.In;
        break;
      }
      if (p === this.root) {
        answer = this.rootStart === undefined || s.startTime === this.rootStart;
        break;
      }
      p = s.ppid;
    }
    // Walk again to remember the answer for every process on the way.
    const membership = answer ? Membership.In : Membership.Out;
    for (let s = stats.get(pid); s && s.membership === Membership.Unknown; s = stats.get(s.ppid)) {
      s.membership = membership;
      if (s.pid === this.root) break;
    }
    return answer;
  }

  /**
   * A child read before its parent could have been reaped between the two reads, its time then
   * in the parent's cutime and counted twice: reading it again after the parent settles which.
   * A re-read child is then read after its own children: they are read again in the next pass.
   */
  private rereadChildrenReadBeforeParents(): void {
    const { stats } = this.snapshot;
    // Each pass re-reads a level deeper; the bound only guards against a snapshot gone wrong.
    for (let changed = true, pass = 0; changed && pass <= stats.size; pass++) {
      changed = false;
      for (const [pid, s] of stats) {
        const parent = stats.get(s.ppid);
        if (pid === this.root || !parent || s.readAt > parent.readAt || !this.isInTree(pid)) {
          continue;
        }
        this.snapshot.read(pid);
        changed = true;
      }
      if (changed) this.snapshot.forgetMembership();
    }
  }

  private classifyTracked(): void {
    for (const t of this.tracked.values()) {
      const s = this.snapshot.stats.get(t.pid);
      if (!s || s.startTime !== t.start) t.seen = Seen.Vanished;
      else if (this.isInTree(t.pid)) t.seen = Seen.Present;
      else t.seen = s.zombie ? Seen.Ended : Seen.Left;
      t.credit = t.carried;
      t.lateCredit = 0;
      t.carried = 0;
    }
  }

  /**
   * A vanished process was reaped by its parent (or, through vanished ancestors, by theirs): the
   * time counted for it is in the cutime of its nearest ancestor still here, and is taken back
   * from that one's growth. (A parent that ignores SIGCHLD gets nothing in its cutime; the clamp
   * at zero keeps that from taking anything else back.)
   */
  private creditAncestor(t: Tracked): void {
    const counted = t.ownTicks + t.reapedChildrenTicks + t.credit;
    let top = t;
    let ancestor = t.parent;
    while (ancestor && ancestor.seen === Seen.Vanished) {
      top = ancestor;
      ancestor = ancestor.parent;
    }
    if (ancestor === null) {
      if (top.pid === this.root) this.selfCredit += counted; // the command, reaped by us
      return;
    }
    if (!hasFinalPart(ancestor)) return; // it left running: its cutime is not counted any more
    ancestor.credit += counted;
    const missedAt = this.snapshot.missedAt.get(top.pid) ?? -1;
    const ancestorReadAt = this.snapshot.stats.get(ancestor.pid)?.readAt ?? 0;
    if (missedAt > ancestorReadAt) ancestor.lateCredit += counted;
  }

  private countGrowth(t: Tracked): void {
    const s = this.snapshot.stats.get(t.pid) as Snap;
    const reapedGrowth = Math.max(0, s.reapedChildrenTicks - t.reapedChildrenTicks);
    const taken = Math.min(reapedGrowth, t.credit);
    this.ticks += Math.max(0, s.ownTicks - t.ownTicks) + reapedGrowth - taken;
    t.carried = Math.min(t.credit - taken, t.lateCredit);
    t.ownTicks = s.ownTicks;
    t.reapedChildrenTicks = s.reapedChildrenTicks;
  }

  /** Processes of the tree not seen before count whole; then every parent link is refreshed. */
  private countNewcomers(): void {
    const { stats } = this.snapshot;
    for (const [pid, s] of stats) {
      if (!this.isInTree(pid)) continue;
      const known = this.tracked.get(pid);
      if (known && known.start === s.startTime) continue;
      if (pid === this.root) this.rootStart = s.startTime;
      this.ticks += s.ownTicks + s.reapedChildrenTicks;
      this.tracked.set(pid, {
        pid,
        start: s.startTime,
        ownTicks: s.ownTicks,
        reapedChildrenTicks: s.reapedChildrenTicks,
        parent: null,
        seen: Seen.Present,
        credit: 0,
        lateCredit: 0,
        carried: 0,
      });
    }
    for (const t of this.tracked.values()) {
      if (t.seen !== Seen.Present || t.pid === this.root) continue;
      t.parent = this.tracked.get((stats.get(t.pid) as Snap).ppid) ?? null;
    }
  }
}

export function createProcTreeCpuReader(fs: ProcFs = realProcFs): TreeCpuReader {
  return new ProcTreeCpuReader(fs);
}
