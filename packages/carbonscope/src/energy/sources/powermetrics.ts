import { performance } from 'node:perf_hooks';
import { afterIo } from '../../after-io.js';
import { atDeadline } from '../../deadline.js';
import type { Logger } from '../../log.js';
import { type LineChild, spawnLineChild } from './line-child.js';
import { probeTimeoutOf } from './probe-timeout.js';
import type { Component, EnergyReading, PowerSource, ProbeResult, SampleTick } from './source.js';

/** Power lines of one `*** Sampled system activity ... ***` block, in milliwatts. */
export interface PowermetricsBlock {
  elapsedMs: number;
  cpuMw?: number;
  gpuMw?: number;
  aneMw?: number;
  dramMw?: number;
  /** `Combined Power (CPU + GPU + ANE)`, recent macOS on Apple Silicon. */
  combinedMw?: number;
  /** `Package Power`, older macOS on Apple Silicon. */
  packageMw?: number;
  /** Sum of the `E-Cluster`/`P-Cluster`/`P0-Cluster`... lines (older macOS). */
  clustersMw?: number;
  /** `Intel energy model derived package power (CPUs+GT+SA)`, Intel Macs. */
  intelPackageMw?: number;
}

const HEADER = /^\*\*\* Sampled system activity .*\(([\d.]+)\s*ms elapsed\)/;
const POWER_LINE =
  /^(CPU|GPU|ANE|DRAM|Package|Combined|[EP]\d*-Cluster) Power(?: \([^)]*\))?:\s*([\d.]+)\s*(mW|W)\s*$/;
const INTEL_LINE =
  /^Intel energy model derived package power \(CPUs\+GT\+SA\):\s*([\d.]+)\s*(mW|W)\s*$/;

const milliwatts = (value: string, unit: string): number =>
  unit === 'W' ? Number(value) * 1000 : Number(value);

/**
 * Incremental parser of `powermetrics` text output, fed line by line. A block is complete when
 * the next block's header arrives (or at end()), because the text format has no end marker.
 */
export class PowermetricsParser {
  private current: PowermetricsBlock | undefined;

  /** Feeds one line; returns the block it completed, if any. */
  line(raw: string): PowermetricsBlock | undefined {
    const line = raw.trim();
    if (line.startsWith('***')) {
      const m = HEADER.exec(line);
      if (!m) return undefined;
      const done = this.current;
      this.current = { elapsedMs: Number(m[1]) };
      return done;
    }
    const block = this.current;
    if (!block) return undefined;
    const p = POWER_LINE.exec(line);
    if (p) {
      const mw = milliwatts(p[2], p[3]);
      switch (p[1]) {
        case 'CPU':
          block.cpuMw = mw;
          break;
        case 'GPU':
          block.gpuMw = mw;
          break;
        case 'ANE':
          block.aneMw = mw;
          break;
        case 'DRAM':
          block.dramMw = mw;
          break;
        case 'Package':
          block.packageMw = mw;
          break;
        case 'Combined':
          block.combinedMw = mw;
          break;
        default:
          block.clustersMw = (block.clustersMw ?? 0) + mw;
      }
      return undefined;
    }
    const intel = INTEL_LINE.exec(line);
    if (intel) block.intelPackageMw = milliwatts(intel[1], intel[2]);
    return undefined;
  }

  /** Ends the stream; returns the last block when it holds any power line. */
  end(): PowermetricsBlock | undefined {
    const done = this.current;
    this.current = undefined;
    return done && Object.keys(done).length > 1 ? done : undefined;
  }
}

/** Parses a whole text (a fixture, or `-n 1` output) into its blocks. */
export function parsePowermetrics(text: string): PowermetricsBlock[] {
  const parser = new PowermetricsParser();
  const blocks: PowermetricsBlock[] = [];
  for (const line of text.split('\n')) {
    const done = parser.line(line);
    if (done) blocks.push(done);
  }
  const last = parser.end();
  if (last) blocks.push(last);
  return blocks;
}

export interface ComponentPower {
  component: Component;
  device: string;
  mw: number;
}

/**
 * Splits a block into non-overlapping parts whose sum is the host power. Intel Macs: the
 * package line. Apple Silicon: CPU (or its clusters), GPU, DRAM as printed, and `package` for
 * the rest of the printed total (Combined, else Package) — the Neural Engine on recent macOS.
 * Package Power is the SoC without its memory (25 mW beside 19 mW of DRAM and 10 mW of CPU),
 * so DRAM is added to it, not taken out. With no total line, the ANE line is that rest. A
 * total below its parts counts as the parts.
 */
export function blockPower(block: PowermetricsBlock): ComponentPower[] {
  if (block.intelPackageMw !== undefined) {
    return [{ component: 'package', device: 'package', mw: block.intelPackageMw }];
  }
  const out: ComponentPower[] = [];
  const cpu = block.cpuMw ?? block.clustersMw;
  if (cpu !== undefined) out.push({ component: 'cpu', device: 'cpu', mw: cpu });
  if (block.gpuMw !== undefined) out.push({ component: 'gpu', device: 'gpu', mw: block.gpuMw });
  if (block.dramMw !== undefined) out.push({ component: 'dram', device: 'dram', mw: block.dramMw });
  let rest: number | undefined;
  if (block.combinedMw !== undefined) {
    rest = block.combinedMw - (cpu ?? 0) - (block.gpuMw ?? 0);
  } else if (block.packageMw !== undefined) {
    rest = block.packageMw - (cpu ?? 0) - (block.gpuMw ?? 0);
  } else {
    rest = block.aneMw;
  }
  if (rest !== undefined)
    out.push({ component: 'package', device: 'package', mw: Math.max(0, rest) });
  return out;
}

export const NOT_ROOT = 'must be invoked as the superuser';

export interface PowermetricsOptions {
  logger: Logger;
  /** Sampling interval passed as `-i`; config.energy.sampleIntervalMs. */
  intervalMs: number;
  /** Binary to run; a path or a name looked up on PATH. */
  binary?: string;
  /** How long probe() waits for the first block (1 ms to 10 min); 3 intervals + 2 s. */
  probeTimeoutMs?: number;
  /** Whether the probe keeps the process alive until it settles; NvidiaSmiOptions.holdProcess. */
  holdProcess?: boolean;
  /** Monotonic milliseconds; performance.now() by default. */
  clock?: () => number;
  /** Silence after which the child counts as hung; default 5 intervals, at least 10 s. */
  stallMs?: number;
}

/** Why sample() has no reading past the stall limit; `kind` groups the hand-over's lines. */
function stalled(silentMs: number, emptyBlocks: number): Error & { kind: string } {
  if (emptyBlocks === 0) {
    return Object.assign(new Error(`printed no sample in ${silentMs} ms (hung?)`), {
      kind: 'stalled',
    });
  }
  const samples = `${emptyBlocks} sample${emptyBlocks === 1 ? '' : 's'}`;
  return Object.assign(
    new Error(`printed ${samples} without a power line in ${silentMs} ms; no power is measured`),
    { kind: 'no power' },
  );
}

interface Accumulated {
  component: Component;
  device: string;
  /** Millijoules (mW × ms / 1000) since the last sample(). */
  mj: number;
  ms: number;
}

/**
 * macOS powermetrics as one long-running child. Each block's power × its own elapsed time is
 * added up; sample() drains what accumulated since the previous call.
 */
export function createPowermetricsSource(options: PowermetricsOptions): PowerSource {
  const { intervalMs } = options;
  const timeoutMs = probeTimeoutOf(options.probeTimeoutMs, intervalMs);
  const clock = options.clock ?? (() => performance.now());
  // A few late blocks are a busy machine; this is a child that hung (as nvidia-smi's stall).
  const stallMs = options.stallMs ?? Math.max(5 * intervalMs, 10_000);
  /**
   * When the latest block with a power line came: the silence is timed from there. Blocks
   * without one measure nothing, and a run of them is no more a reading than silence.
   */
  let lastPowerMs = 0;
  /** Blocks without a power line since the latest with one: what the stall says it saw. */
  let emptySincePower = 0;
  const binary = options.binary ?? 'powermetrics';
  const args = ['--samplers', 'cpu_power,gpu_power', '-i', String(intervalMs)];
  const parser = new PowermetricsParser();
  const acc = new Map<string, Accumulated>();
  let child: LineChild | undefined;
  let closing = false;
  /** True once probe() succeeded: an exit after that is worth a warning. */
  let started = false;
  let onFirstBlock: (() => void) | undefined;
  /** While the probe waits: a block without a power line came. */
  let onEmptyBlock: (() => void) | undefined;
  /** Blocks that held no power line: a sampler that reports nothing here measures nothing. */
  let emptyBlocks = 0;
  /** Set when the child ended mid-run: why no reading will come again. */
  let endedWhy: string | undefined;
  /** Time a stall left to whoever covers it (the estimate), not yet taken out of blocks. */
  let coveredMs = 0;
  /**
   * Blocks that ended a covered stall, held until sample(): they span the silence (one block
   * far longer than an interval) or come late all together (our event loop blocked, a burst of
   * buffered output), and the covered time is the newest part of it.
   */
  let afterStall: PowermetricsBlock[] = [];

  /** Adds the blocks that ended a stall, the newest `coveredMs` of them taken off. */
  const settleStall = () => {
    let left = coveredMs;
    for (let i = afterStall.length - 1; i >= 0 && left > 0; i--) {
      const take = Math.min(afterStall[i].elapsedMs, left);
      afterStall[i] = { ...afterStall[i], elapsedMs: afterStall[i].elapsedMs - take };
      left -= take;
    }
    const blocks = afterStall;
    afterStall = [];
    coveredMs = 0;
    for (const block of blocks) accumulate(block);
  };

  const add = (block: PowermetricsBlock) => {
    const empty = blockPower(block).length === 0;
    if (empty) {
      emptyBlocks++;
      emptySincePower++;
      onEmptyBlock?.();
    } else {
      lastPowerMs = clock();
      emptySincePower = 0;
    }
    // Blocks without power after a covered stall hold part of its time all the same: the
    // covered time is taken off the newest blocks, whether they measured anything or not.
    if (coveredMs > 0) afterStall.push(block);
    else if (!empty) accumulate(block);
    if (!empty) onFirstBlock?.();
  };

  const accumulate = (block: PowermetricsBlock) => {
    const parts = blockPower(block);
    for (const part of parts) {
      let a = acc.get(part.device);
      if (!a) {
        a = { component: part.component, device: part.device, mj: 0, ms: 0 };
        acc.set(part.device, a);
      }
      a.mj += (part.mw * block.elapsedMs) / 1000;
      a.ms += block.elapsedMs;
    }
  };

  return {
    name: 'powermetrics',
    estimated: false,
    kind: 'host',

    probe(): Promise<ProbeResult> {
      return new Promise<ProbeResult>((resolve) => {
        let settled = false;
        let stderr = '';
        const settle = (result: ProbeResult) => {
          if (settled) return;
          settled = true;
          cancelTimer();
          lateExpire.cancel();
          onFirstBlock = undefined;
          onEmptyBlock = undefined;
          started = result.ok;
          if (!result.ok) void child?.stop();
          resolve(result);
        };
        const notRoot = () =>
          settle({
            ok: false,
            reason: `${binary} ${NOT_ROOT}: run carbonscope as root (e.g. sudo) to read Apple's power counters`,
          });
        const deadlineMs = clock() + timeoutMs;
        const expire = () => {
          const printed =
            emptyBlocks > 0
              ? `${emptyBlocks} sample${emptyBlocks === 1 ? '' : 's'} without a power line`
              : 'no sample';
          settle({ ok: false, reason: `${binary} printed ${printed} within ${timeoutMs} ms` });
        };
        // After the output that came meanwhile (atDeadline): a start stopped past the timeout
        // (SIGSTOP, `docker pause`) had its first sample in the pipe, unread.
        const cancelTimer = atDeadline(timeoutMs, expire, options.holdProcess === false);
        // Held until the probe settles (unless holdProcess is false), as in nvidia-smi.ts: the
        // child and its pipes are unref'd.
        // Also on the source's clock, so a test decides when the deadline is past, not the time
        // a loaded machine takes to start the child; after the rest of that read, whose next
        // block may have the power line.
        const lateExpire = afterIo(expire);
        onEmptyBlock = () => {
          if (clock() >= deadlineMs) lateExpire.run();
        };
        onFirstBlock = () =>
          settle({ ok: true, detail: `${binary} ${args.join(' ')} (pid ${child?.pid})` });
        child = spawnLineChild(binary, args, {
          onLine(line) {
            if (line.includes(NOT_ROOT)) return notRoot();
            const block = parser.line(line);
            if (block) add(block);
          },
          onStderr(text) {
            // Only the probe needs the whole text (NOT_ROOT may span chunks); once it has
            // settled, the latest chunk is enough to say why the child ended.
            if (settled) {
              stderr = text;
              return;
            }
            stderr += text;
            if (stderr.includes(NOT_ROOT)) notRoot();
          },
          onDetach(pid) {
            options.logger.warn(
              { pid },
              `powermetrics: ${binary} (pid ${pid}) did not end after SIGKILL (stuck in the kernel?); ` +
                'left behind, its output no longer read',
            );
          },
          onExit(code, signal, error) {
            const midRun = started && !closing;
            if (error) {
              const why = error.code === 'ENOENT' ? 'not found (not macOS?)' : error.message;
              return settle({ ok: false, reason: `${binary} ${why}` });
            }
            if (stderr.includes(NOT_ROOT)) return notRoot();
            const last = parser.end();
            if (last) add(last);
            const detail = stderr.trim().split('\n')[0] || `exit ${code ?? signal}`;
            settle({ ok: false, reason: `${binary} ended: ${detail}` });
            // Said by sample() from now on, once, by whoever samples (the hand-over to the
            // estimate, else the meter): a warning here as well said it twice.
            if (midRun) endedWhy = `child ended (${detail}); no more readings`;
          },
        });
      });
    },

    sample(tick: SampleTick): EnergyReading[] {
      if (afterStall.length > 0) settleStall();
      if ([...acc.values()].every((a) => a.ms === 0)) {
        if (endedWhy !== undefined) throw Object.assign(new Error(endedWhy), { kind: 'ended' });
        const silentMs = clock() - lastPowerMs;
        if (started && silentMs > stallMs) {
          coveredMs += Math.max(0, tick.elapsedMs);
          throw stalled(Math.round(silentMs), emptySincePower);
        }
      }
      const out: EnergyReading[] = [];
      for (const a of acc.values()) {
        if (a.ms === 0) continue;
        const joules = a.mj / 1000;
        out.push({
          component: a.component,
          device: a.device,
          joules,
          watts: joules / (a.ms / 1000),
        });
        a.mj = 0;
        a.ms = 0;
      }
      return out;
    },

    async close(): Promise<void> {
      closing = true;
      await child?.stop();
    },
  };
}
