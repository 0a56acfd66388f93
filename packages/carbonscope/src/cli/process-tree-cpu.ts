import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { USER_HZ } from '../energy/host-cpu.js';

/** How the CPU time of a command's process tree is read, in words for the summary. */
export type TreeCpuMethod = 'proc' | 'ps' | 'unavailable';

export const TREE_CPU_METHOD_TEXT: Record<TreeCpuMethod, string> = {
  proc: 'CPU time of the whole process tree from /proc (each process while in it; exited ones once reaped)',
  ps: 'CPU time of the process tree from ps; a descendant that exits between samples loses its last interval',
  unavailable:
    'no way to read a child process CPU time on this platform: process energy is not known',
};

/** One line of /proc/<pid>/stat, the fields the tree walk needs; times in ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process (all its threads). */
  ownTicks: number;
  /** cutime + cstime: children it has waited for, with their own reaped children. */
  reapedChildrenTicks: number;
  /** starttime, ticks after boot: with the pid, it names one process (pids are reused). */
  startTime: number;
}

const SPACE = 32;
const NEWLINE = 10;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const CHAR_0 = 48;
const CHAR_9 = 57;
// Field numbers of `man 5 proc`, /proc/<pid>/stat.
const FIELD_PPID = 4;
const FIELD_UTIME = 14;
const FIELD_STIME = 15;
const FIELD_CUTIME = 16;
const FIELD_CSTIME = 17;
const FIELD_STARTTIME = 22;

/** Stores field `field` of a stat line into `out`; fields the reader does not need are skipped. */
function setField(out: ProcStat, field: number, value: number): void {
  if (field === FIELD_PPID) out.ppid = value;
  else if (field === FIELD_UTIME) out.ownTicks = value;
  else if (field === FIELD_STIME) out.ownTicks += value;
  else if (field === FIELD_CUTIME) out.reapedChildrenTicks = value;
  else if (field === FIELD_CSTIME) out.reapedChildrenTicks += value;
  else if (field === FIELD_STARTTIME) out.startTime = value;
}

function isNeeded(field: number): boolean {
  return (
    field === FIELD_PPID ||
    (field >= FIELD_UTIME && field <= FIELD_CSTIME) ||
    field === FIELD_STARTTIME
  );
}

/**
 * Parses `/proc/<pid>/stat` straight from bytes into `out` (no strings: it runs for every process
 * on the host, every sample). The command name (field 2) sits in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted from the LAST ')'. False when malformed.
 */
export function parseProcStatBytes(buf: Uint8Array, length: number, out: ProcStat): boolean {
  let close = length - 1;
  while (close > 0 && buf[close] !== CLOSE_PAREN) close--;
  let i = 0;
  let pid = 0;
  while (i < close && buf[i] >= CHAR_0 && buf[i] <= CHAR_9) pid = pid * 10 + buf[i++] - CHAR_0;
  if (i === 0 || buf[i] !== SPACE || buf[i + 1] !== OPEN_PAREN || i + 1 >= close) return false;
  out.pid = pid;
  let field = 3; // state, just after ") "
  for (i = close + 2; field <= FIELD_STARTTIME && i < length; field++, i++) {
    const start = i;
    let value = 0;
    let digits = true;
    for (; i < length && buf[i] !== SPACE && buf[i] !== NEWLINE; i++) {
      digits &&= buf[i] >= CHAR_0 && buf[i] <= CHAR_9;
      value = value * 10 + buf[i] - CHAR_0;
    }
    if (i === start || (isNeeded(field) && !digits)) return false;
    setField(out, field, value);
  }
  return field > FIELD_STARTTIME;
}

const encoder = new TextEncoder();

/** parseProcStatBytes for a line already in a string (tests, a fake /proc). */
export function parseProcStat(text: string): ProcStat | undefined {
  const out: ProcStat = { pid: 0, ppid: 0, ownTicks: 0, reapedChildrenTicks: 0, startTime: 0 };
  const bytes = encoder.encode(text);
  return parseProcStatBytes(bytes, bytes.length, out) ? out : undefined;
}

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

export interface ProcFs {
  /** PIDs listed in /proc. */
  pids(): number[];
  /** Reads /proc/<pid>/stat into `out`; false when the process is gone (or the line is bad). */
  readStat(pid: number | 'self', out: ProcStat): boolean;
}

// Field 22 ends within ~400 bytes even with a 64-byte name and 20-digit numbers.
const STAT_BYTES = 1024;

function createRealProcFs(): ProcFs {
  const buf = new Uint8Array(STAT_BYTES);
  return {
    pids: () =>
      readdirSync('/proc')
        .filter((name) => name.charCodeAt(0) >= CHAR_0 && name.charCodeAt(0) <= CHAR_9)
        .map(Number),
    readStat: (pid, out) => {
      let fd: number;
      try {
        fd = openSync(`/proc/${pid}/stat`, 'r');
      } catch {
        return false; // exited between the listing and the read
      }
      try {
        return parseProcStatBytes(buf, readSync(fd, buf, 0, STAT_BYTES, 0), out);
      } catch {
        return false; // ESRCH: reaped between open and read
      } finally {
        closeSync(fd);
      }
    },
  };
}

export const realProcFs: ProcFs = createRealProcFs();

export interface TreeCpuReader {
  readonly method: TreeCpuMethod;
  /** Cumulative CPU seconds of the tree since its root was set (0 before); never goes down. */
  read(): number;
  /** Which process is the root of the tree (set once the command is spawned). */
  setRoot(pid: number): void;
}

/** Where a process seen in the previous read stands now. */
enum Seen {
  /** Still in the tree. */
  Present,
  /** Still running, outside the tree: re-parented to init or a subreaper. */
  Left,
  /** Gone from /proc (reaped), or its pid now names another process. */
  Vanished,
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

/** Whether a process descends from the root, as far as this read has worked out. */
enum Membership {
  Unknown,
  In,
  Out,
}

/** A process's stat in one read of /proc. */
interface Snap extends ProcStat {
  /** When it was read (its place in the read order), for the races with reaping. */
  readAt: number;
  membership: Membership;
}

/** One read of /proc: the stat of every process, in read order; objects reused between reads. */
class ProcSnapshot {
  readonly stats = new Map<number, Snap>();
  /** When a listed pid turned out to be gone. */
  readonly missedAt = new Map<number, number>();
  private readonly pool: Snap[] = [];
  private used = 0;
  private clock = 0;

  constructor(private readonly fs: ProcFs) {}

  load(): void {
    this.stats.clear();
    this.missedAt.clear();
    this.used = 0;
    this.clock = 0;
    for (const pid of this.fs.pids()) this.read(pid);
  }

  /** (Re-)reads one pid; false when it is gone, and then it is out of `stats`. */
  read(pid: number): boolean {
    const out = this.stats.get(pid) ?? this.slot();
    if (this.fs.readStat(pid, out)) {
      out.readAt = this.clock++;
      out.membership = Membership.Unknown;
      this.stats.set(pid, out);
      return true;
    }
    this.stats.delete(pid);
    this.missedAt.set(pid, this.clock++);
    return false;
  }

  /** Forgets which processes are in the tree: a re-read may have changed a ppid. */
  forgetMembership(): void {
    for (const s of this.stats.values()) s.membership = Membership.Unknown;
  }

  private slot(): Snap {
    if (this.used === this.pool.length) {
      this.pool.push({
        pid: 0,
        ppid: 0,
        ownTicks: 0,
        reapedChildrenTicks: 0,
        startTime: 0,
        readAt: 0,
        membership: Membership.Unknown,
      });
    }
    return this.pool[this.used++];
  }
}

/**
 * The CPU time of a command and all its descendants, on Linux.
 *
 * Each process counts with the growth of utime+stime+cutime+cstime since it was last read (all
 * of it when first seen), keyed by pid and start time. What was counted stays counted: a process
 * that leaves the tree (re-parented to init, or reaped where nobody in the tree waits) keeps it,
 * and its time after that is not counted. When a parent reaps a child, the kernel adds the child's
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
  private selfReaped = 0;
  private selfCredit = 0;
  private readonly tracked = new Map<number, Tracked>();
  private readonly snapshot: ProcSnapshot;
  private readonly scratch: ProcStat = {
    pid: 0,
    ppid: 0,
    ownTicks: 0,
    reapedChildrenTicks: 0,
    startTime: 0,
  };

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

  private sample(root: number): void {
    this.snapshot.load();
    this.rereadChildrenReadBeforeParents();
    // After the listing: a command found gone there has been reaped, into this cutime.
    const selfReaped = this.readSelfReaped() ?? this.selfReaped;
    this.selfCredit = 0;
    this.classifyTracked();
    for (const t of this.tracked.values()) if (t.seen === Seen.Vanished) this.creditAncestor(t);
    for (const t of this.tracked.values()) if (t.seen === Seen.Present) this.countGrowth(t);
    this.countNewcomers();
    if (this.isInTree(root)) {
      this.selfReaped = selfReaped;
    } else {
      this.ticks += Math.max(0, selfReaped - this.selfReaped - this.selfCredit);
      this.rootGone = true; // its descendants left with it: nothing more is the command's
    }
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
      else t.seen = this.isInTree(t.pid) ? Seen.Present : Seen.Left;
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
    if (ancestor.seen !== Seen.Present) return; // it left: its cutime is not counted any more
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

/** A reader for platforms with neither: always 0, and the summary says process energy is unknown. */
export function createUnavailableTreeCpuReader(): TreeCpuReader {
  return { method: 'unavailable', setRoot() {}, read: () => 0 };
}

/** The best reader for this platform: /proc, else ps, else none. */
export function createTreeCpuReader(platform: NodeJS.Platform = process.platform): TreeCpuReader {
  if (platform === 'linux' || platform === 'android') return createProcTreeCpuReader();
  if (platform === 'win32') return createUnavailableTreeCpuReader();
  try {
    execFileSync('ps', ['-o', 'pid=', '-p', String(process.pid)], { stdio: 'ignore' });
    return createPsTreeCpuReader();
  } catch {
    return createUnavailableTreeCpuReader();
  }
}
