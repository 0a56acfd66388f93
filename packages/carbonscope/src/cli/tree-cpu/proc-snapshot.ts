import { blankProcStat, type ProcFs, type ProcStat } from '../../proc/index.js';

/** Whether a process descends from the root, as far as this read has worked out. */
export enum Membership {
  Unknown,
  In,
  Out,
}

/** A process's stat in one read of /proc. */
export interface Snap extends ProcStat {
  /** When it was read (its place in the read order), for the races with reaping. */
  readAt: number;
  membership: Membership;
}

/** One read of /proc: the stat of every process, in read order; objects reused between reads. */
export class ProcSnapshot {
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
      this.pool.push({ ...blankProcStat(), readAt: 0, membership: Membership.Unknown });
    }
    return this.pool[this.used++];
  }
}
