import { readFileSync } from 'node:fs';
import { type CpuInfo, cpus } from 'node:os';

/** The vendor_id each maker's model names begin with (`AMD EPYC 9654`, `Hygon C86 7285`). */
const BY_MODEL: readonly [RegExp, string][] = [
  [/^AMD\b/i, 'AuthenticAMD'],
  [/^Hygon\b/i, 'HygonGenuine'],
  [/\bIntel\b/i, 'GenuineIntel'],
];

export interface CpuVendorSources {
  /** /proc/cpuinfo's text by default. */
  readCpuinfo?: () => string;
  /** os.cpus() by default. */
  listCpus?: () => readonly CpuInfo[];
}

/**
 * The CPU's vendor_id (`GenuineIntel`, `AuthenticAMD`); undefined where nothing tells it. Read
 * from /proc/cpuinfo, else from the model name os.cpus() gives: libuv reads /proc/cpuinfo below
 * Node's permission model, which refuses the file to a process granted /sys/class/powercap
 * alone, and an AMD package's per-die zones then each counted the package's one counter.
 */
export function cpuVendor(sources: CpuVendorSources = {}): string | undefined {
  const readCpuinfo = sources.readCpuinfo ?? (() => readFileSync('/proc/cpuinfo', 'latin1'));
  try {
    const id = /^vendor_id\s*:\s*(\S+)/m.exec(readCpuinfo())?.[1];
    if (id) return id;
  } catch {
    // Unreadable: the model name may still say.
  }
  let model = '';
  try {
    model = (sources.listCpus ?? cpus)()[0]?.model.trim() ?? '';
  } catch {
    return undefined;
  }
  return BY_MODEL.find(([pattern]) => pattern.test(model))?.[1];
}
