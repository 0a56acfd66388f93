import { existsSync } from 'node:fs';
import type { GpuShareReader } from './gpu-share-reader.js';
import type { PmonRow } from './pmon-parser.js';

/** One GPU's pmon rows of the interval in progress and its latest share. */
interface GpuRows {
  readonly device: string;
  /** SM % per pid summed over the interval's rows (a pid-less `-` row adds nothing). */
  readonly smByPid: Map<number, number>;
  /** Whether any row (even an idle `-` one) came in the interval. */
  rows: boolean;
  /** The share of the latest interval that had rows; undefined before. */
  share: number | undefined;
  /** When that interval's last row came, ms. */
  shareAtMs: number;
  lastRowMs: number;
}

/** Why the command's GPU share is not (or no longer) read; said once in the report. */
export interface GpuShareOutcome {
  /** True when shares were read for some of the run (pmon ran and saw this pid namespace). */
  read: boolean;
  /** Why not, or why not for the whole run: pmon failed or ended, or a foreign pid namespace. */
  fallback?: string;
}

export interface PmonSharesOptions {
  /** Whether the pid belongs to the measured command (its process tree at the latest read). */
  isCommand(pid: number): boolean;
  /** Whether the pid exists in this pid namespace; `/proc/<pid>` by default. */
  pidExists?(pid: number): boolean;
  /** Monotonic ms. */
  clock(): number;
  /**
   * An interval without a row of a GPU takes the GPU's latest share while that is at most this
   * old (pmon prints once a second, the meter may sample more often); then none. Default 2.5 s.
   */
  staleMs?: number;
}

/** Busy pids named in the foreign-namespace reason, at most. */
const NAMED_PIDS = 5;

/**
 * The command's share of each GPU, by SM utilization: per meter interval and GPU, the SM % of
 * the command's pids over the SM % of all pids, summed over the pmon rows that came in the
 * interval. An interval whose rows show no SM use at all gives a share of 0 (the GPU's idle
 * energy stays the host's). Shares are read only between begin() and a failure.
 */
export class PmonShares implements GpuShareReader {
  readonly source = 'nvidia-smi' as const;
  private readonly gpus = new Map<number, GpuRows>();
  private readonly byDevice = new Map<string, GpuRows>();
  private readonly staleMs: number;
  private readonly pidExists: (pid: number) => boolean;
  private state: 'off' | 'on' | 'failed' = 'off';
  private stop: () => Promise<void> = async () => undefined;
  private startedMs = 0;
  /** Whether shares were read before a failure. */
  private wasOn = false;
  private why: string | undefined;
  /** Whether any busy pid of the rows is in this pid namespace; undefined until one is busy. */
  private local: boolean | undefined;
  /** Busy pids seen that are not in this pid namespace (the first few, for the reason). */
  private readonly foreign = new Set<number>();
  private readonly checked = new Set<number>();

  constructor(private readonly o: PmonSharesOptions) {
    this.staleMs = o.staleMs ?? 2500;
    this.pidExists = o.pidExists ?? ((pid) => existsSync(`/proc/${pid}`));
  }

  /** pmon answers: shares are read from now on; `stop` ends it (close() calls it). */
  begin(stop: () => Promise<void>): void {
    if (this.state !== 'off') return;
    this.state = 'on';
    this.stop = stop;
    this.startedMs = this.o.clock();
  }

  /** pmon could not start or stopped answering: no share from now on, and the report says why. */
  fail(reason: string): void {
    if (this.state === 'failed') return;
    this.wasOn = this.state === 'on';
    this.state = 'failed';
    const after = (this.o.clock() - this.startedMs) / 1000;
    this.why = this.wasOn
      ? `${reason} after ${after.toFixed(1)} s: the command's GPU energy covers only the time before`
      : reason;
  }

  /** A row as it comes (its time is the clock's now); before begin() too, for the baseline. */
  add(row: Readonly<PmonRow>): void {
    if (this.state === 'failed') return;
    const g = this.gpu(row.gpu);
    g.rows = true;
    g.lastRowMs = this.o.clock();
    if (row.pid === undefined) return;
    g.smByPid.set(row.pid, (g.smByPid.get(row.pid) ?? 0) + row.sm);
    if (row.sm > 0 && this.local !== true) this.checkNamespace(row.pid);
  }

  next(nowMs: number): void {
    for (const g of this.gpus.values()) {
      if (g.rows) {
        let all = 0;
        let mine = 0;
        for (const [pid, sm] of g.smByPid) {
          all += sm;
          if (this.o.isCommand(pid)) mine += sm;
        }
        g.share = all > 0 ? mine / all : 0;
        g.shareAtMs = g.lastRowMs;
        g.smByPid.clear();
        g.rows = false;
      } else if (g.share !== undefined && nowMs - g.shareAtMs > this.staleMs) {
        g.share = undefined;
      }
    }
  }

  share(device: string): number | undefined {
    if (this.state !== 'on' || this.local === false) return undefined;
    return this.byDevice.get(device)?.share;
  }

  async close(): Promise<void> {
    await this.stop();
  }

  outcome(): GpuShareOutcome | undefined {
    if (this.state === 'off') return undefined;
    if (this.local === false) {
      const pids = [...this.foreign].join(', ');
      return {
        read: false,
        fallback: `nvidia-smi pmon names busy processes (pid ${pids}) none of which is in this pid namespace (a container?)`,
      };
    }
    return this.why === undefined ? { read: true } : { read: this.wasOn, fallback: this.why };
  }

  private gpu(index: number): GpuRows {
    let g = this.gpus.get(index);
    if (!g) {
      g = {
        device: `gpu${index}`,
        smByPid: new Map(),
        rows: false,
        share: undefined,
        shareAtMs: 0,
        lastRowMs: 0,
      };
      this.gpus.set(index, g);
      this.byDevice.set(g.device, g);
    }
    return g;
  }

  /**
   * A busy pid that is not in /proc here: pmon sees another pid namespace (carbonscope in a
   * container, the driver on the host), whose pids say nothing of the command's tree.
   */
  private checkNamespace(pid: number): void {
    if (this.checked.has(pid)) return;
    this.checked.add(pid);
    if (this.pidExists(pid)) {
      this.local = true;
      return;
    }
    this.local = false;
    if (this.foreign.size < NAMED_PIDS) this.foreign.add(pid);
  }
}
