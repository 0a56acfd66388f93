import { existsSync } from 'node:fs';
import type { GpuShareReader } from './gpu-share-reader.js';
import type { MigMode } from './mig-mode.js';
import type { PmonRow } from './pmon-parser.js';

/** One GPU's pmon rows of the interval in progress and its latest share. */
interface GpuRows {
  readonly device: string;
  /** SM % per pid summed over the interval's rows (a pid-less `-` row adds nothing). */
  readonly smByPid: Map<number, number>;
  /** Whether any row (even an idle `-` one) came in the interval, and any with an SM number. */
  rows: boolean;
  numbered: boolean;
  /** The share of the latest interval that had rows; undefined before. */
  share: number | undefined;
  /** When that interval's last row came, ms. */
  shareAtMs: number;
  lastRowMs: number;
  /** Whether pmon printed any row of it yet, and any with SM use. */
  everRows: boolean;
  everBusy: boolean;
  /** Whether the power source reads it (watch()): only those are named when unread. */
  watched: boolean;
  /** True while its pmon child is down (pause() to resume()): no share, not the last one. */
  down: boolean;
  mig: MigMode;
  /** The pids of pmon's sample in progress, their SM % summed, and whether any had a number. */
  readonly samplePids: Set<number>;
  sampleSm: number;
  sampleOpen: boolean;
  sampleNumbered: boolean;
  /** Every sample's SM % of all processes (at most 100) summed since begin(), and how many. */
  smTotal: number;
  samples: number;
  /**
   * Samples since begin() whose rows were all `-`: 0 % where pmon reads utilization, none at
   * all in MIG mode. Kept apart because the mode is told (watch()) after pmon's first rows.
   */
  blankSamples: number;
}

/** A GPU the power source reads whose share pmon never told, and why, in words. */
export interface UnsharedGpu {
  /** `gpu1`. */
  device: string;
  why: string;
}

/** Why the command's GPU share is not (or no longer) read; said once in the report. */
export interface GpuShareOutcome {
  /** True when shares were read for some of the run (pmon ran and saw this pid namespace). */
  read: boolean;
  /** Why not, or why not for the whole run: pmon failed or ended, or a foreign pid namespace. */
  fallback?: string;
  /**
   * True when pmon showed the command's processes on the SMs (an interval's share above 0): its
   * GPU share is a measurement then, even one that met no energy (0 J).
   */
  commandBusy?: boolean;
  /**
   * Where shares were read: the GPUs among those read for power that pmon printed no SM
   * utilization for (none at all, or none on a MIG-enabled GPU), whose energy stays the host's.
   */
  unshared?: UnsharedGpu[];
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

/** What a GPU pmon printed no utilization for is said to be, by its MIG mode. */
const UNREAD_WHY: Record<MigMode, string> = {
  enabled: 'pmon printed no utilization for it (MIG mode is enabled: pmon reads none there)',
  disabled: 'pmon printed no utilization for it',
  unknown: 'pmon printed no utilization for it (MIG mode?)',
};

/** pmon -d 1 prints a sample every ~1.05 s on the H200 (call2/pmon-piped.txt), its rows at once. */
const PMON_SAMPLE_GAP_MS = 500;

/** Ends the GPU's pmon sample in progress, if any: its processes' SM % counts, at most 100. */
function endSample(g: GpuRows): void {
  if (!g.sampleOpen) return;
  if (g.sampleNumbered) {
    g.smTotal += Math.min(g.sampleSm, 100);
    g.samples++;
  } else {
    g.blankSamples++;
  }
  g.sampleSm = 0;
  g.samplePids.clear();
  g.sampleOpen = false;
  g.sampleNumbered = false;
}

/** On a MIG-enabled GPU pmon reads no utilization: its `-` is no sample, not an idle 0 %. */
function blankIsUnread(g: GpuRows): boolean {
  return g.mig === 'enabled';
}

/**
 * Counts a row into its pmon sample. pmon prints a sample's rows of a GPU together, one per
 * process, or one `-` row where none runs; its lines carry no time, and a reader that lags gets
 * several samples at once, so a pid already in the sample, or a `-` row, starts the next one too.
 */
function countSample(g: GpuRows, pid: number | undefined, sm: number | undefined): void {
  if (pid === undefined || g.samplePids.has(pid)) endSample(g);
  g.sampleOpen = true;
  if (sm !== undefined) {
    g.sampleSm += sm;
    g.sampleNumbered = true;
  }
  if (pid === undefined) endSample(g);
  else g.samplePids.add(pid);
}

/**
 * The command's share of each GPU, by SM utilization: per meter interval and GPU, the SM % of
 * the command's pids over the SM % of all pids, summed over the pmon rows that came in the
 * interval. An interval whose rows show no SM use at all gives a share of 0 (the GPU's idle
 * energy stays the host's). Shares are read only between begin() and a failure. A GPU in MIG
 * mode gives none until pmon shows SM use on it: there its `-` says it cannot tell, not idle,
 * so an interval of only `-` rows there is one pmon printed nothing in.
 *
 * Whether pmon's pids are this pid namespace's is decided over the whole run, not by the first
 * busy pid: one is local as soon as any busy pid is in /proc here or in the command's tree; the
 * run falls back (outcome()) only if busy pids came and none ever was. A busy pid can be gone
 * from /proc by the time it is looked up (it ended after pmon's sample) or hidden there (hidepid),
 * so a single absent pid proves nothing, and the shares are computed throughout meanwhile.
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
  private closed = false;
  /** Whether shares were read before a failure. */
  private wasOn = false;
  private why: string | undefined;
  /** Whether a busy pid of the rows was ever in /proc here or in the command's tree. */
  private local = false;
  /** Whether an interval's share, while shares were read, was above 0. */
  private commandBusy = false;
  /** pmon children that ended mid-run (outages, each said once), and why the first did. */
  private outages = 0;
  private firstOutage = '';
  /** GPUs down now, since when (any of them), and the time any was down before, ms. */
  private downGpus = 0;
  private downFromMs = 0;
  private downMs = 0;
  private closedAtMs: number | undefined;
  /** Busy pids seen that /proc here did not show (the first few, for the reason). */
  private readonly absent = new Set<number>();
  private readonly checked = new Set<number>();

  constructor(private readonly o: PmonSharesOptions) {
    this.staleMs = o.staleMs ?? 2500;
    this.pidExists = o.pidExists ?? ((pid) => existsSync(`/proc/${pid}`));
  }

  /**
   * The GPUs the power source reads, with their MIG mode where nvidia-smi told it: those pmon
   * printed no utilization for are named in outcome(), and a MIG-enabled one gives no share
   * until pmon shows SM use on it.
   */
  watch(gpus: readonly number[], mig: ReadonlyMap<number, MigMode> = new Map()): void {
    for (const index of gpus) {
      const g = this.gpu(index);
      g.watched = true;
      g.mig = mig.get(index) ?? 'unknown';
    }
  }

  /**
   * pmon answers: shares are read from now on; `stop` ends it (close() calls it). After close()
   * (a pmon started late whose header came once the command had ended) it is stopped at once.
   */
  begin(stop: () => Promise<void>): void {
    if (this.closed) {
      void stop();
      return;
    }
    if (this.state !== 'off') return;
    this.state = 'on';
    this.stop = stop;
    this.startedMs = this.o.clock();
  }

  /** When begin() was, on the clock: shares are read from then; undefined before. */
  beganAtMs(): number | undefined {
    return this.state === 'on' || this.wasOn ? this.startedMs : undefined;
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

  /**
   * The pmon child of `gpus` ended mid-run (`why`, in words) and is to be started again: their
   * share is unknown from now until resume(), as the intervals of a partial reading are: the
   * interval in progress gets none either, as its rows stop short of its end.
   */
  pause(gpus: readonly number[], why: string): void {
    if (this.state !== 'on') return;
    if (this.outages++ === 0) this.firstOutage = why;
    for (const index of gpus) {
      const g = this.gpu(index);
      if (g.down) continue;
      if (this.downGpus++ === 0) this.downFromMs = this.o.clock();
      g.down = true;
      g.share = undefined;
      endSample(g);
    }
  }

  /** The child of `gpus` started again printed its header: their rows count from now on. */
  resume(gpus: readonly number[]): void {
    for (const index of gpus) {
      const g = this.gpu(index);
      if (!g.down) continue;
      g.down = false;
      g.smByPid.clear();
      g.rows = false;
      g.numbered = false;
      if (--this.downGpus === 0) this.downMs += this.o.clock() - this.downFromMs;
    }
  }

  /** A row as it comes (its time is the clock's now); before begin() too, for the baseline. */
  add(row: Readonly<PmonRow>): void {
    if (this.state === 'failed') return;
    const g = this.gpu(row.gpu);
    g.rows = true;
    g.everRows = true;
    if (row.sm !== undefined) g.numbered = true;
    const nowMs = this.o.clock();
    // Rows further apart than half pmon's 1 s delay are of different samples.
    if (nowMs - g.lastRowMs > PMON_SAMPLE_GAP_MS) endSample(g);
    g.lastRowMs = nowMs;
    if (this.state === 'on') countSample(g, row.pid, row.sm);
    if (row.pid === undefined) return;
    const sm = row.sm ?? 0;
    g.smByPid.set(row.pid, (g.smByPid.get(row.pid) ?? 0) + sm);
    if (sm > 0) {
      g.everBusy = true;
      if (!this.local) this.checkNamespace(row.pid);
    }
  }

  next(nowMs: number): void {
    for (const g of this.gpus.values()) {
      if (g.down) g.share = undefined;
      else if (g.rows && (g.numbered || !blankIsUnread(g))) this.shareInterval(g);
      else if (g.share !== undefined && nowMs - g.shareAtMs > this.staleMs) g.share = undefined;
      g.smByPid.clear();
      g.rows = false;
      g.numbered = false;
    }
  }

  /** The GPU's share of the interval just ended, from its rows. */
  private shareInterval(g: GpuRows): void {
    let all = 0;
    let mine = 0;
    for (const [pid, sm] of g.smByPid) {
      all += sm;
      if (!this.o.isCommand(pid)) continue;
      mine += sm;
      // The command's tree is this namespace's, whether or not /proc still shows the pid.
      if (sm > 0) this.local = true;
    }
    g.share = all > 0 ? mine / all : 0;
    if (mine > 0 && this.state === 'on') this.commandBusy = true;
    g.shareAtMs = g.lastRowMs;
  }

  share(device: string): number | undefined {
    if (this.state !== 'on') return undefined;
    const g = this.byDevice.get(device);
    if (!g || g.down || (g.mig === 'enabled' && !g.everBusy)) return undefined;
    return g.share;
  }

  async close(): Promise<void> {
    if (!this.closed) this.closedAtMs = this.o.clock();
    this.closed = true;
    await this.stop();
  }

  /**
   * The GPUs' mean SM utilization of all processes since begin(), 0..100: each pmon sample of
   * each GPU counts once, as CodeCarbon averages each GPU's utilization over its samples (its
   * gpu_utilization_percent). A MIG-enabled GPU pmon showed no SM use on is left out, and one
   * it did counts only its samples with a number (its `-` is no 0); undefined where pmon
   * printed no sample it counts. Read it after the last sample.
   */
  utilizationPercent(): number | undefined {
    let sm = 0;
    let samples = 0;
    for (const g of this.gpus.values()) {
      if (blankIsUnread(g) && !g.everBusy) continue;
      endSample(g);
      sm += g.smTotal;
      samples += g.samples + (blankIsUnread(g) ? 0 : g.blankSamples);
    }
    return samples > 0 ? sm / samples : undefined;
  }

  /** Read it after the meter's last sample: that sample can still find the command's pids. */
  outcome(): GpuShareOutcome | undefined {
    if (this.state === 'off') return undefined;
    if (!this.local && this.absent.size > 0) {
      const pids = [...this.absent].join(', ');
      return {
        read: false,
        fallback: `nvidia-smi pmon names busy processes (pid ${pids}) none of which this /proc shows or the command's tree holds (another pid namespace: a container? or /proc mounted with hidepid)`,
      };
    }
    const read = this.why === undefined || this.wasOn;
    const unshared = read ? this.unshared() : [];
    const failed = read ? this.why : this.withMigMode(this.why);
    const gaps = this.gapsText();
    const why = gaps && failed ? `${gaps}; ${failed}` : (gaps ?? failed);
    return {
      read,
      ...(why === undefined ? {} : { fallback: why }),
      ...(unshared.length > 0 ? { unshared } : {}),
      ...(this.commandBusy ? { commandBusy: true } : {}),
    };
  }

  /** How often pmon ended mid-run and was started again, and the time without a share. */
  private gapsText(): string | undefined {
    if (this.outages === 0) return undefined;
    const endMs = this.closedAtMs ?? this.o.clock();
    const ms = this.downMs + (this.downGpus > 0 ? endMs - this.downFromMs : 0);
    const times = this.outages === 1 ? 'time' : 'times';
    const first = this.outages === 1 ? '' : 'first: ';
    const after = this.downGpus > 0 ? 'was not reading again by the end' : 'was started again';
    return (
      `nvidia-smi pmon ended mid-run ${this.outages} ${times} (${first}${this.firstOutage}) and ` +
      `${after}: the command's GPU share is unknown for ${(ms / 1000).toFixed(1)} s of the ` +
      'run, whose GPU energy is in the host figures only'
    );
  }

  /**
   * A failure's reason with the watched GPUs in MIG mode named: pmon reads no utilization there,
   * which may be why it failed (watch() comes after pmon's start, so this is said at the end).
   */
  private withMigMode(reason: string | undefined): string | undefined {
    if (reason === undefined) return undefined;
    const mig = [...this.gpus]
      .filter(([, g]) => g.watched && g.mig === 'enabled')
      .sort(([a], [b]) => a - b);
    if (mig.length === 0) return reason;
    const which = mig.map(([, g]) => g.device).join(', ');
    const are = mig.length === 1 ? 'is' : 'are';
    return `${reason} (${which} ${are} in MIG mode, where pmon reads no utilization)`;
  }

  /** The watched GPUs pmon printed no utilization for, in index order. */
  private unshared(): UnsharedGpu[] {
    const unread: UnsharedGpu[] = [];
    const byIndex = [...this.gpus].sort(([a], [b]) => a - b);
    for (const [, g] of byIndex) {
      if (!g.watched || (g.everRows && (g.mig !== 'enabled' || g.everBusy))) continue;
      unread.push({ device: g.device, why: UNREAD_WHY[g.mig] });
    }
    return unread;
  }

  private gpu(index: number): GpuRows {
    let g = this.gpus.get(index);
    if (!g) {
      g = {
        device: `gpu${index}`,
        smByPid: new Map(),
        rows: false,
        numbered: false,
        share: undefined,
        shareAtMs: 0,
        lastRowMs: 0,
        everRows: false,
        everBusy: false,
        watched: false,
        down: false,
        mig: 'unknown',
        samplePids: new Set(),
        sampleSm: 0,
        sampleOpen: false,
        sampleNumbered: false,
        smTotal: 0,
        samples: 0,
        blankSamples: 0,
      };
      this.gpus.set(index, g);
      this.byDevice.set(g.device, g);
    }
    return g;
  }

  /**
   * A busy pid in /proc here makes pmon's pids this namespace's. One that is not may be of
   * another namespace (carbonscope in a container, the driver on the host), whose pids say
   * nothing of the command's tree, or just ended or hidden: kept for the verdict at the end.
   */
  private checkNamespace(pid: number): void {
    if (this.checked.has(pid)) return;
    this.checked.add(pid);
    if (this.pidExists(pid)) {
      this.local = true;
      return;
    }
    if (this.absent.size < NAMED_PIDS) this.absent.add(pid);
  }
}
