import { performance } from 'node:perf_hooks';
import { atDeadline } from '../../deadline.js';
import type { Logger } from '../../log.js';
// The probe's burst wait is real time, as the rest of carbonscope's timers are.
import { clearTimeout, setTimeout } from '../../real-timers.js';
import { quotedText } from '../../shown-value.js';
import { type LineChild, type LineChildOptions, spawnLineChild } from './line-child.js';
import { probeTimeoutOf } from './probe-timeout.js';
import { RESTART_DELAYS, type RestartDelays, restartBackoff } from './restart-backoff.js';
import type {
  EnergyReading,
  PowerSource,
  ProbeResult,
  SampleTick,
  SourceDevice,
} from './source.js';

/** One CSV line of `--query-gpu=index,uuid,name,power.draw --format=csv,noheader,nounits`. */
export interface NvidiaGpuLine {
  index: number;
  uuid: string;
  name: string;
  /** undefined when nvidia-smi printed `N/A`, `[N/A]`, `[Not Supported]` or similar. */
  watts: number | undefined;
}

/** nvidia-smi's CSV separator: a decimal comma (`77,34`) or a comma in a name holds no space. */
const SEPARATOR = ', ';
/** How a GPU line starts (its index and a separator), whatever follows. */
const GPU_LINE_START = /^\s*\d+\s*,/;
/** The most of a line a warning quotes: a GPU line is well under it, a garbled one may not be. */
const QUOTED_LINE = 200;

/**
 * Parses one line; undefined when it is not a GPU line (a banner or an error message) or one
 * that cannot be read, which `onBad` is told with why: a column shifted in silence would be a
 * wrong figure labelled measured.
 */
export function parseNvidiaSmiLine(
  line: string,
  onBad?: (why: string) => void,
): NvidiaGpuLine | undefined {
  if (!GPU_LINE_START.test(line)) return undefined;
  const fields = line.split(SEPARATOR);
  if (fields.length < 4) {
    onBad?.('no `, ` between its fields');
    return undefined;
  }
  const index = Number(fields[0].trim());
  const uuid = fields[1].trim();
  if (!Number.isInteger(index) || index < 0 || uuid === '') {
    onBad?.('no GPU index and uuid');
    return undefined;
  }
  // A name may itself hold the separator: it is everything between the uuid and the last field.
  const name = fields.slice(2, -1).join(SEPARATOR).trim();
  const raw = fields[fields.length - 1].trim();
  if (/^\d+(\.\d+)?$/.test(raw)) return { index, uuid, name, watts: Number(raw) };
  // `N/A`, `[N/A]`, `[Not Supported]`: no value this interval. A figure it cannot read is no
  // missing value but a format this parser does not know.
  if (/\d/.test(raw)) {
    onBad?.(`power.draw ${quotedText(raw, 40)} is no number`);
    return undefined;
  }
  return { index, uuid, name, watts: undefined };
}

interface GpuState {
  device: string;
  name: string;
  lastMs: number | undefined;
  lastWatts: number | undefined;
  joules: number;
  seconds: number;
  /** The meter's baseline, when it fell after lastMs: the next interval counts from there. */
  fromMs: number | undefined;
  partial: boolean;
  /** True while the GPU has printed nothing for longer than the stall limit (said once). */
  stalled: boolean;
  /** True from the reader's end to this GPU's next line: every interval between is partial. */
  unread: boolean;
}

export interface GpuEnergyIntegratorOptions {
  /** Called the first time a GPU prints N/A (or similar) for its power. */
  onUnreadable?: (device: string, name: string) => void;
  /**
   * A GPU that printed no line for longer than this is not being read (a hung driver): its
   * readings are partial until it prints again, and that gap adds no energy. Default: never.
   */
  stallMs?: number;
  /** Called once per stall, when drain() first finds it. */
  onStall?: (device: string, name: string, silentMs: number) => void;
  /**
   * nvidia-smi's interval (`-lms`): lines of one GPU read together (addRead) were printed this
   * far apart, having waited in the pipe. Default: 0, each timed as it was read.
   */
  lineIntervalMs?: number;
}

/**
 * The trapezoid between `g`'s last reading and one at `nowMs`, from `g.fromMs` on where the
 * meter's window started inside it: the power there on the straight line between the two.
 */
function addTrapezoidFrom(g: GpuState, nowMs: number, watts: number): void {
  const lastMs = g.lastMs ?? nowMs;
  const lastWatts = g.lastWatts ?? watts;
  const from = Math.min(nowMs, Math.max(lastMs, g.fromMs ?? lastMs));
  const atFrom = lastWatts + ((watts - lastWatts) * (from - lastMs)) / (nowMs - lastMs);
  const dt = (nowMs - from) / 1000;
  g.joules += ((atFrom + watts) / 2) * dt;
  g.seconds += dt;
}

/**
 * Integrates each GPU's power readings into energy with the trapezoid rule between consecutive
 * readings, timed by when they arrived. An interval with an `N/A` at either end adds no energy
 * and marks that GPU's next reading `partial`. (Ampere and newer report power.draw as a 1 s
 * average; the trapezoid then shifts energy by half an interval but keeps the total.)
 */
export class GpuEnergyIntegrator {
  private readonly gpus = new Map<number, GpuState>();
  private readonly stallMs: number;
  /** The latest drain's instant: lines read after it were printed after it. */
  private drainedMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: GpuEnergyIntegratorOptions = {}) {
    this.stallMs = options.stallMs ?? Number.POSITIVE_INFINITY;
  }

  /**
   * The lines of one read of the pipe, at `nowMs`. A GPU's lines beyond the first there waited
   * in the pipe while this process did not read it (stopped, or a loop blocked for seconds):
   * the newest is timed now and each earlier one an interval before the next. Timed as read,
   * a 12 s stop was a hung driver's silence and its 1,200 J at 100 W were left out. None goes
   * back past the last drain: the meter's sample reads the pipe first, so a silence it saw was
   * real, and lines spread into it after a hung driver's burst filled its gap with made-up power.
   */
  addRead(lines: readonly NvidiaGpuLine[], nowMs: number): void {
    const spacing = this.options.lineIntervalMs ?? 0;
    const byGpu = new Map<number, NvidiaGpuLine[]>();
    for (const line of lines) {
      const its = byGpu.get(line.index);
      if (its) its.push(line);
      else byGpu.set(line.index, [line]);
    }
    for (const [index, its] of byGpu) {
      const floor = Math.max(this.gpus.get(index)?.lastMs ?? -Infinity, this.drainedMs);
      const k = its.length;
      // Never at or before that floor: then spread evenly over the time since.
      const step = nowMs - (k - 1) * spacing <= floor ? (nowMs - floor) / k : spacing;
      for (const [i, line] of its.entries()) this.add(line, nowMs - (k - 1 - i) * step);
    }
  }

  add(line: NvidiaGpuLine, nowMs: number): void {
    let g = this.gpus.get(line.index);
    if (!g) {
      g = {
        device: `gpu${line.index}`,
        name: line.name,
        lastMs: undefined,
        lastWatts: undefined,
        joules: 0,
        seconds: 0,
        fromMs: undefined,
        partial: false,
        stalled: false,
        unread: false,
      };
      this.gpus.set(line.index, g);
    }
    if (line.watts === undefined) this.options.onUnreadable?.(g.device, g.name);
    g.stalled = false;
    g.unread = false;
    if (g.lastMs !== undefined && nowMs > g.lastMs) {
      // Power across a silence is unknown: its two ends say nothing of what came between.
      const gap = nowMs - g.lastMs > this.stallMs;
      if (!gap && g.lastWatts !== undefined && line.watts !== undefined) {
        addTrapezoidFrom(g, nowMs, line.watts);
      } else {
        g.partial = true;
      }
    }
    g.fromMs = undefined;
    g.lastMs = nowMs;
    g.lastWatts = line.watts;
  }

  /**
   * Energy per GPU since the previous drain; GPUs with nothing integrated and no gap are left
   * out. A GPU silent past the stall limit at `nowMs` is a partial reading of what it has.
   */
  drain(nowMs = Number.NEGATIVE_INFINITY, edge?: SampleTick['edge']): EnergyReading[] {
    const out: EnergyReading[] = [];
    this.drainedMs = Math.max(this.drainedMs, nowMs);
    for (const g of this.gpus.values()) {
      // The window ends now, between two lines: the last power held to now, as no later line
      // will say (up to a stall). Without it, the time since the last line was left out: up to
      // an interval of nvidia-smi's, a third of a 3 s run at the default 1 s.
      if (edge === 'end') this.holdToEnd(g, nowMs);
      // The window starts now: the interval in progress counts from here on only.
      if (edge === 'start') g.fromMs = nowMs;
      if (g.unread) g.partial = true;
      if (g.lastMs !== undefined && nowMs - g.lastMs > this.stallMs) {
        g.partial = true;
        if (!g.stalled) {
          g.stalled = true;
          this.options.onStall?.(g.device, g.name, nowMs - g.lastMs);
        }
      }
      if (g.seconds === 0 && !g.partial) continue;
      const reading: EnergyReading = {
        component: 'gpu',
        device: g.device,
        joules: g.joules,
        watts: g.seconds > 0 ? g.joules / g.seconds : 0,
      };
      if (g.partial) reading.partial = true;
      out.push(reading);
      g.joules = 0;
      g.seconds = 0;
      g.partial = false;
    }
    return out;
  }

  /**
   * The reader ended: no GPU's power is known from here to its next line. Every interval until
   * then is partial, and so is the one that line ends (it adds no energy).
   */
  interrupt(): void {
    for (const g of this.gpus.values()) {
      g.lastWatts = undefined;
      g.unread = true;
    }
  }

  private holdToEnd(g: GpuState, nowMs: number): void {
    const lastMs = g.lastMs ?? nowMs;
    const from = Math.max(lastMs, g.fromMs ?? Number.NEGATIVE_INFINITY);
    // A silence is timed from the last line, whenever the window started after it.
    if (g.lastWatts === undefined || !(nowMs > from) || nowMs - lastMs > this.stallMs) return;
    const dt = (nowMs - from) / 1000;
    g.joules += g.lastWatts * dt;
    g.seconds += dt;
    g.fromMs = nowMs;
  }

  get devices(): string[] {
    return [...this.gpus.values()].map((g) => `${g.device} ${g.name}`);
  }

  /** The GPUs read so far, by index. */
  list(): SourceDevice[] {
    return [...this.gpus.values()].map((g) => ({ device: g.device, name: g.name }));
  }
}

export interface NvidiaSmiOptions {
  logger: Logger;
  /** Loop interval passed as `-lms`; config.energy.sampleIntervalMs. */
  intervalMs: number;
  binary?: string;
  /**
   * Monotonic milliseconds; performance.now() by default. The meter's (SampleTick.nowMs' clock):
   * its start and end are placed among the lines by it.
   */
  clock?: () => number;
  /** How long probe() waits for the first GPU line (1 ms to 10 min); 3 intervals + 2 s. */
  probeTimeoutMs?: number;
  /**
   * Whether the probe keeps the process alive until it settles (default true): a process that
   * awaits it with nothing else to do needs that. `register` awaits nothing of its own: a short
   * script must end as it would without carbonscope, however long nvidia-smi takes.
   */
  holdProcess?: boolean;
  /** Silence after which a GPU counts as not read (a hung driver); default 5 intervals, ≥ 10 s. */
  stallMs?: number;
  /** How long a child that ended mid-run waits to be started again; RESTART_DELAYS. */
  restartBackoffMs?: RestartDelays;
}

export const NVIDIA_SMI_QUERY = [
  '--query-gpu=index,uuid,name,power.draw',
  '--format=csv,noheader,nounits',
] as const;

/**
 * NVIDIA GPUs through one long-running `nvidia-smi -lms N`. One source covers every GPU (one
 * reading per GPU, device `gpuN`). A missing binary fails the probe with a short reason the
 * selector keeps quiet about.
 */
export function createNvidiaSmiSource(options: NvidiaSmiOptions): PowerSource {
  return nvidiaSmiSourceWith(options, {});
}

/**
 * createNvidiaSmiSource with how each child is started (a test counts the starts as they are
 * made): off NvidiaSmiOptions, which the package's index makes public, and out of this folder's
 * index.
 */
export function nvidiaSmiSourceWith(
  options: NvidiaSmiOptions,
  lineChild: LineChildOptions,
): PowerSource {
  const { logger, intervalMs } = options;
  const timeoutMs = probeTimeoutOf(options.probeTimeoutMs, intervalMs);
  const binary = options.binary ?? 'nvidia-smi';
  const clock = options.clock ?? (() => performance.now());
  const args = [...NVIDIA_SMI_QUERY, '-lms', String(intervalMs)];
  const warned = new Set<string>();
  /** True once the child has ended: no line will come again. */
  let ended = false;
  const integrator = new GpuEnergyIntegrator({
    onUnreadable(device, name) {
      if (warned.has(device)) return;
      warned.add(device);
      logger.warn(
        { device },
        `nvidia-smi: ${device} (${name}) reports power.draw as N/A; intervals without a value add no energy`,
      );
    },
    // A few missed intervals are a slow query or a busy event loop; this is a hung driver.
    stallMs: options.stallMs ?? Math.max(5 * intervalMs, 10_000),
    lineIntervalMs: intervalMs,
    onStall(device, name, silentMs) {
      const key = `stall ${device}`;
      // After the child ended, its warning has said why every GPU is silent.
      if (ended || warned.has(key)) return;
      warned.add(key);
      logger.warn(
        { device, silentMs: Math.round(silentMs) },
        `nvidia-smi: no power.draw line for ${device} (${name}) in ${Math.round(silentMs)} ms ` +
          '(a hung driver?); its energy is left out until it prints again',
      );
    },
  });
  let child: LineChild | undefined;
  /** GPU lines of the read in progress: added together once its lines are all split. */
  let read: NvidiaGpuLine[] = [];
  const addLine = (gpu: NvidiaGpuLine) => {
    if (read.length === 0) {
      queueMicrotask(() => {
        const lines = read;
        read = [];
        integrator.addRead(lines, clock());
      });
    }
    read.push(gpu);
  };
  let started = false;
  let closing = false;
  const backoff = restartBackoff(options.restartBackoffMs ?? RESTART_DELAYS);

  const readLine = (line: string): NvidiaGpuLine | undefined =>
    parseNvidiaSmiLine(line, (why) => {
      if (warned.has('unreadable line')) return;
      warned.add('unreadable line');
      const shown = quotedText(line, QUOTED_LINE);
      logger.warn(
        { line: shown, why },
        `nvidia-smi: skipped a line it cannot read (${why}): ${shown}; ` +
          'lines like it are skipped without a word',
      );
    });

  /** Starts a child whose GPU lines are added; the rest is the caller's. */
  const spawnReader = (handlers: {
    onGpu(): void;
    onOther(line: string): void;
    onExit(code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException): void;
  }): LineChild => {
    backoff.started();
    return spawnLineChild(
      binary,
      args,
      {
        onLine(line) {
          const gpu = readLine(line);
          if (!gpu) {
            if (line.trim()) handlers.onOther(line.trim());
            return;
          }
          addLine(gpu);
          handlers.onGpu();
        },
        onDetach(pid) {
          logger.warn(
            { pid },
            `nvidia-smi: ${binary} (pid ${pid}) did not end after SIGKILL (stuck in the kernel?); ` +
              'left behind, its output no longer read',
          );
        },
        onExit: handlers.onExit,
      },
      lineChild,
    );
  };

  /**
   * A child ended mid-run: its GPUs are unread until one started again prints. Said once per
   * outage, whatever the tries in it; a binary gone is tried again at the longest wait only.
   */
  const childEnded = (why: string, error?: NodeJS.ErrnoException) => {
    ended = true;
    integrator.interrupt();
    const { say, waitMs } = backoff.ended(error?.code === 'ENOENT', restart);
    if (say === 'missing') {
      logger.warn(
        {},
        `nvidia-smi: ${binary} not found; tried again every ${waitMs} ms until it is`,
      );
    } else if (say === 'ended') {
      logger.warn(
        { why },
        `nvidia-smi: child ended (${why}); GPU energy goes unread until it is started again ` +
          `(in ${waitMs} ms)`,
      );
    }
  };

  const restart = () => {
    if (closing) return;
    let firstOther = '';
    let reading = false;
    child = spawnReader({
      onGpu() {
        if (reading) return;
        reading = true;
        ended = false;
        if (!backoff.readsAgain()) return;
        const devices = integrator.list().map((d) => d.device);
        const one = devices.length === 1;
        logger.warn(
          { devices },
          `nvidia-smi: reads again: ${devices.join(', ')} ${one ? 'is' : 'are'} counted again ` +
            `from ${one ? 'its next line' : 'their next lines'}`,
        );
      },
      onOther(line) {
        if (!firstOther) firstOther = line;
      },
      onExit(code, signal, error) {
        if (closing) return;
        const why = error
          ? error.code === 'ENOENT'
            ? 'not found'
            : error.message
          : firstOther || `exit ${code ?? signal}`;
        childEnded(why, error);
      },
    });
  };

  return {
    name: 'nvidia-smi',
    estimated: false,
    kind: 'gpu',

    probe(): Promise<ProbeResult> {
      return new Promise<ProbeResult>((resolve) => {
        let settled = false;
        let firstOther = '';
        let burst: NodeJS.Timeout | undefined;
        const settle = (result: ProbeResult) => {
          if (settled) return;
          settled = true;
          cancelTimer();
          started = result.ok;
          if (!result.ok) void child?.stop();
          resolve(result);
        };
        // After the lines that came meanwhile (atDeadline): a start stopped past the timeout
        // (SIGSTOP, `docker pause`) had its GPU's lines in the pipe, and found no GPU. Read,
        // they are the answer, without waiting out the burst.
        // Held until the probe settles (first output or this timeout): the child and its pipes
        // are unref'd, so without it a process awaiting the probe with nothing else to do
        // (`monitor`, a script's `await tracker.start()`) ended with code 13 mid-await.
        const cancelTimer = atDeadline(
          timeoutMs,
          () =>
            settle(
              integrator.devices.length > 0
                ? { ok: true, detail: integrator.devices.join(', ') }
                : {
                    ok: false,
                    reason: `${binary} printed no GPU line within ${timeoutMs} ms`,
                    later: true,
                  },
            ),
          options.holdProcess === false,
        );
        child = spawnReader({
          onGpu() {
            // One interval's lines come in a burst: wait a moment so the detail names every GPU.
            if (burst) return;
            burst = setTimeout(
              () => settle({ ok: true, detail: integrator.devices.join(', ') }),
              Math.min(100, intervalMs / 2),
            );
            if (options.holdProcess === false) burst.unref();
          },
          onOther(line) {
            if (!firstOther) firstOther = line;
          },
          onExit(code, signal, error) {
            ended = true;
            if (burst) clearTimeout(burst);
            if (error) {
              const why = error.code === 'ENOENT' ? 'not found' : error.message;
              settle({ ok: false, reason: `${binary} ${why}` });
              return;
            }
            const why = firstOther || `exit ${code ?? signal}`;
            // It ran: a driver not loaded yet, or no GPU; a missing binary is no NVIDIA GPU.
            settle({ ok: false, reason: `${binary} ended: ${why}`, later: true });
            if (started && !closing) childEnded(why);
          },
        });
      });
    },

    sample(tick: SampleTick): EnergyReading[] {
      // Once the child has ended, no line will come: its last power is no guess for the time
      // since, whose energy is left out as a stall's is.
      const edge = ended && tick.edge === 'end' ? undefined : tick.edge;
      // The window's edges are the meter's instants, read before the sources: this clock read now
      // is later by what came between (the host's sources, under load 10 ms and more).
      return integrator.drain(edge ? tick.nowMs : clock(), edge);
    },

    async close(): Promise<void> {
      closing = true;
      backoff.cancel();
      await child?.stop();
    },

    devices: () => integrator.list(),
  };
}
