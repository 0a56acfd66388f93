import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from '../../error-code.js';

/** Reads a small sysfs file as text; injectable so tests can simulate EACCES and vanishing. */
export type ReadText = (path: string) => string;

/** The ReadText of sysfs. */
export const readSysText: ReadText = (path) => readFileSync(path, 'latin1');

// Numbered in hex (powercap_sys.c names a zone `%s:%x`): the 11th package is intel-rapl:a.
const ZONE_DIR = /^intel-rapl(-mmio)?:([0-9a-f]+)(?::([0-9a-f]+))?$/;

/**
 * Control types whose folders hold their zones, nested (a package's subzones inside it): the
 * layout of /sys/devices/virtual/powercap, which a container mounts where /sys/class/powercap's
 * flat links into it would lead nowhere.
 */
const CONTROL_TYPES = ['intel-rapl', 'intel-rapl-mmio'];

/** Parses a sysfs counter; undefined for anything but a non-negative safe integer. */
export function parseMicrojoules(text: string): number | undefined {
  const trimmed = text.trim();
  // Number('') is 0: an empty read (a file being rewritten) would look like a counter reset
  // and the next good read would then count the whole counter again.
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** One powercap zone whose name could be read. */
export interface PowercapZone {
  /** `intel-rapl:0:1`, unique in a tree. */
  id: string;
  /** Its folder from the root: `intel-rapl:0:1`, or `intel-rapl/intel-rapl:0/intel-rapl:0:1`. */
  dir: string;
  mmio: boolean;
  /** The id of the zone it sits in, e.g. `intel-rapl:0`. */
  parent: string | undefined;
  name: string;
}

/** A zone listed whose name could not be read. */
export interface UnnamedZone {
  id: string;
  /** Its folder, absolute. */
  path: string;
  code: string | undefined;
  /** Where the zone's folder is a link to nothing (a container's view of the host's): its target. */
  missingTarget: string | undefined;
  /** An `intel-rapl:N` zone: a package or psys, a whole share of the host. */
  topLevel: boolean;
}

export interface ZoneListing {
  zones: Map<string, PowercapZone>;
  unnamed: UnnamedZone[];
}

/** A folder's entries; none where it cannot be listed (not a folder, gone, locked). */
function entriesOf(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The target of a link that leads nowhere; undefined for anything else. */
function missingTargetOf(path: string): string | undefined {
  let target: string;
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    target = readlinkSync(path);
  } catch {
    return undefined;
  }
  try {
    statSync(path);
    return undefined;
  } catch (err) {
    return errorCode(err) === 'ENOENT' ? target : undefined;
  }
}

/**
 * Hands `consider` every candidate zone folder under `root` (whose entries are `top`): the flat
 * entries first, then those nested in its control-type folders; the same id may come twice.
 */
function visitZones(root: string, top: string[], consider: (id: string, dir: string) => void) {
  for (const entry of top) consider(entry, entry);
  for (const type of CONTROL_TYPES.filter((t) => top.includes(t))) {
    for (const zone of entriesOf(join(root, type)).filter((e) => ZONE_DIR.test(e))) {
      consider(zone, join(type, zone));
      for (const sub of entriesOf(join(root, type, zone))) consider(sub, join(type, zone, sub));
    }
  }
}

/**
 * Lists the RAPL zones under `root`: its flat `intel-rapl:*` entries (/sys/class/powercap), then
 * those nested in its control-type folders (/sys/devices/virtual/powercap), each zone once, the
 * flat one first. Throws where `root` cannot be listed.
 */
export function listPowercapZones(root: string, read: ReadText): ZoneListing {
  const zones = new Map<string, PowercapZone>();
  const unnamed = new Map<string, UnnamedZone>();
  const consider = (id: string, dir: string): void => {
    const m = ZONE_DIR.exec(id);
    if (!m || zones.has(id)) return;
    const path = join(root, dir);
    let name: string;
    try {
      name = read(join(path, 'name')).trim();
    } catch (err) {
      if (!unnamed.has(id)) {
        const missingTarget = missingTargetOf(path);
        const topLevel = m[1] === undefined && m[3] === undefined;
        unnamed.set(id, { id, path, code: errorCode(err), missingTarget, topLevel });
      }
      return;
    }
    unnamed.delete(id);
    const mmio = m[1] !== undefined;
    const prefix = mmio ? 'intel-rapl-mmio' : 'intel-rapl';
    const parent = m[3] === undefined ? undefined : `${prefix}:${m[2]}`;
    zones.set(id, { id, dir, mmio, parent, name });
  };

  visitZones(root, readdirSync(root), consider);
  return { zones, unnamed: [...unnamed.values()] };
}

/**
 * Every RAPL zone's energy_uj under `root`, by its path (RaplDomain.energyPath), read as they
 * are now: the default instance's early baseline (EarlyBaseline.raplCounters), which the RAPL
 * source's first interval runs from. A zone that cannot be read (root-only since CVE-2020-8694,
 * gone) is left out; a root that cannot be listed gives none. Zones in the order, and under the
 * folder, listPowercapZones takes them.
 */
export function readZoneCounters(root: string, read: ReadText): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<string>();
  const consider = (id: string, dir: string): void => {
    if (seen.has(id) || !ZONE_DIR.test(id)) return;
    const path = join(root, dir, 'energy_uj');
    let value: number | undefined;
    try {
      value = parseMicrojoules(read(path));
    } catch {
      return;
    }
    if (value === undefined) return;
    seen.add(id);
    out.set(path, value);
  };
  visitZones(root, entriesOf(root), consider);
  return out;
}
