import type { Clock, ProcessCpuReader } from './probes.js';
import { readSysText, readZoneCounters } from './sources/index.js';

/**
 * The meter's clocks read as its owner was built, before the power sources are probed: the
 * first interval then runs from here, not from the sources' first answer. A script's first
 * lines run while the sources are probed (Node 24's `--import`, `-r` on every Node), and the
 * energy of that work is in the first interval's time and CPU share, by every reading that is
 * taken between two ticks (the host's CPU time, the estimate's model). RAPL's counters are read
 * here too (raplCounters), and its first interval runs from them; a GPU's lines (nvidia-smi, a
 * process spawned, not a file read) count from the meter's start.
 */
export interface EarlyBaseline {
  /** The meter's clock. */
  readonly nowMs: number;
  /** The wall clock (epoch ms): the meter's startedAt, where its totals begin. */
  readonly wallMs: number;
  /** The measured process's cumulative CPU seconds; unread (0 taken) where its reader failed. */
  readonly processCpuSeconds: number | undefined;
  /** The boot clock, where there is one. */
  readonly bootMs: number | undefined;
  /**
   * The RAPL zones' energy_uj by path (readZoneCounters), where a powercap root was given:
   * for the RAPL source (RaplOptions.early). None read (root-only, no tree) is an empty map.
   */
  readonly raplCounters: ReadonlyMap<string, number> | undefined;
}

/**
 * Reads them (a few µs: the clocks, Date.now() and process.cpuUsage(); RAPL's counters, where
 * `powercapRoot` is given, a few small sysfs reads more). The host's CPU time is its reader's
 * own baseline, taken as that reader is made (createHostCpuReader), not here.
 */
export function readEarlyBaseline(
  clock: Clock,
  wallClock: () => number,
  processCpu: ProcessCpuReader,
  bootClock: Clock | undefined,
  powercapRoot?: string,
): EarlyBaseline {
  // Next to the monotonic clock, which the first interval's time runs from.
  const raplCounters =
    powercapRoot === undefined ? undefined : readZoneCounters(powercapRoot, readSysText);
  return {
    nowMs: clock(),
    wallMs: wallClock(),
    processCpuSeconds: finiteOrUndefined(processCpu),
    bootMs: finiteOrUndefined(bootClock),
    raplCounters,
  };
}

function finiteOrUndefined(read: (() => number) | undefined): number | undefined {
  try {
    const value = read?.();
    return value !== undefined && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
