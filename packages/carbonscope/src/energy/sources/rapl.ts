import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { elapsedText } from '../../elapsed-text.js';
import { errorCode } from '../../error-code.js';
import { FailureRun, FLAP_WINDOW_MS, spellText, tallyText } from '../../failure-run.js';
import type { Logger } from '../../log.js';
import { isRefusalCode, refusedReading } from '../../permission-refusal.js';
import { cpuVendor } from './cpu-vendor.js';
import {
  listPowercapZones,
  type PowercapZone,
  parseMicrojoules,
  type ReadText,
  readSysText,
  type UnnamedZone,
} from './powercap-zones.js';
import type { Component, EnergyReading, PowerSource, ProbeResult, SampleTick } from './source.js';

export { parseMicrojoules, type ReadText } from './powercap-zones.js';

const readText = readSysText;

/** One energy counter the host total is made of. */
export interface RaplDomain {
  /** `psys`, `package-0`, `dram-0` (the dram inside package-0). */
  device: string;
  component: Component;
  /** Zone folder, e.g. `intel-rapl:0:2`. */
  zone: string;
  energyPath: string;
  /** Counter wraps to 0 at this value; undefined when unreadable or 0. */
  maxRangeUj: number | undefined;
  /**
   * The highest constraint_*_max_power_uw the zone gives (µW); undefined where none reads.
   * Bounds what its counter can count over a gap (recoveredUj).
   */
  maxPowerUw: number | undefined;
}

type Zone = PowercapZone;

/**
 * The most power one RAPL domain is taken to draw: twice the highest-TDP server CPUs' 500 W
 * (Xeon 6980P, EPYC 9965). A wrap that would mean more over the time between two reads is no
 * wrap.
 */
const MAX_DOMAIN_WATTS = 1000;

/**
 * Whether a counter that wraps to 0 at `maxRangeUj` rose, wrapped or was reset between two
 * readings `seconds` apart. A drop counts as a reset when the wrapped distance is over half the
 * range and would mean more than MAX_DOMAIN_WATTS: a counter that restarted from 0
 * (suspend/resume, a VM moved to another host), whose wrap formula would add most of the range
 * at once. Read seconds apart, a counter moves far less than half its range (a package's 262 kJ
 * last minutes at full power); read an hour apart (`monitor --interval 1h`), a real wrap can
 * move it further, and the time tells the two apart.
 */
export function counterStep(
  prev: number,
  cur: number,
  maxRangeUj: number | undefined,
  seconds: number,
): 'rise' | 'wrap' | 'reset' {
  if (cur >= prev) return 'rise';
  if (maxRangeUj === undefined || maxRangeUj < prev) return 'reset';
  const wrappedUj = maxRangeUj - prev + cur;
  if (wrappedUj <= maxRangeUj / 2 || wrappedUj <= MAX_DOMAIN_WATTS * 1e6 * seconds) return 'wrap';
  return 'reset';
}

/**
 * Microjoules spent between two readings `seconds` apart: delta = (max_energy_range_uj −
 * previous) + current after a wrap. A reset (or a drop without a known range) counts from 0,
 * the smallest honest figure.
 */
export function counterDeltaUj(
  prev: number,
  cur: number,
  maxRangeUj: number | undefined,
  seconds: number,
): number {
  const step = counterStep(prev, cur, maxRangeUj, seconds);
  if (step === 'rise') return cur - prev;
  if (step === 'wrap' && maxRangeUj !== undefined) return maxRangeUj - prev + cur;
  return cur;
}

/**
 * How far above a zone's constraint_*_max_power_uw its draw is taken to go over a gap: that
 * figure is the highest power limit the part allows (PKG_POWER_INFO), which short bursts (PL2,
 * PL4) and the boot clock's undetected sub-2 s suspends may pass; twice it, as MAX_DOMAIN_WATTS
 * is twice the highest TDP.
 */
const GAP_POWER_MARGIN = 2;

/**
 * Microjoules a zone's counter counted over a gap of `ms` (the unread ticks and the one it is
 * back on), from its last value before to `cur`; undefined where a wrap could hide in the delta.
 * At most one wrap fits when the zone, at GAP_POWER_MARGIN × its max power, cannot count a whole
 * range in that time; a delta beyond that bound is no energy but a reset (counted as none).
 */
export function recoveredUj(
  d: Pick<RaplDomain, 'maxRangeUj' | 'maxPowerUw'>,
  fromUj: number,
  cur: number,
  ms: number,
): number | undefined {
  const range = d.maxRangeUj;
  if (range === undefined || d.maxPowerUw === undefined || range < fromUj) return undefined;
  const boundUj = (GAP_POWER_MARGIN * d.maxPowerUw * ms) / 1000;
  if (!(boundUj < range)) return undefined;
  const delta = cur >= fromUj ? cur - fromUj : range - fromUj + cur;
  return delta <= boundUj ? delta : undefined;
}

/** The highest constraint_N_max_power_uw of a zone folder (long_term, short_term, peak). */
function maxPowerOf(dir: string, read: ReadText): number | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^constraint_\d+_max_power_uw$/.test(f));
  } catch {
    return undefined;
  }
  let most: number | undefined;
  for (const f of files) {
    let value: number | undefined;
    try {
      value = parseMicrojoules(read(join(dir, f)));
    } catch {
      continue;
    }
    if (value !== undefined && value > 0 && value > (most ?? 0)) most = value;
  }
  return most;
}

/** max_energy_range_uj as a wrap point: 0 (or no number) gives none. */
function parseRange(text: string): number | undefined {
  const value = parseMicrojoules(text);
  return value === 0 ? undefined : value;
}

/**
 * Vendors whose package energy counter covers the whole package, whichever die reads it
 * (intel_rapl_common.c, rapl_msrs_are_pkg_scope).
 */
const PACKAGE_SCOPE_VENDORS = new Set(['AuthenticAMD', 'HygonGenuine']);

/**
 * Where the package counter is the package's, a zone per die (`package-N-die-M`, as kernels
 * with AMD's per-CCD topology but without the fix for it register) reads that one counter again:
 * the first die's zone, and its children, stand for the package; the other dies are left out.
 */
function onePerPackage(kept: readonly [string, Zone][]): [string, Zone][] {
  const firstDie = new Map<string, string>();
  const out: [string, Zone][] = [];
  for (const [key, z] of kept) {
    const m = /^package-(\d+)-die-(\d+)(\/.*)?$/.exec(key);
    if (!m) {
      out.push([key, z]);
      continue;
    }
    const die = firstDie.get(m[1]) ?? m[2];
    firstDie.set(m[1], die);
    if (die === m[2]) out.push([`package-${m[1]}${m[3] ?? ''}`, z]);
  }
  return out;
}

/**
 * A platform zone's name: `psys`, or `psys-N` where the package that reads it is not package 0
 * (intel_rapl_common.c; on SPR the master package may be any). Only the master package's
 * counter reads (the others read 0 and register none), so each zone is a platform of its own.
 */
const PSYS = /^psys(-\d+)?$/;

/**
 * Finds the zones to sum for the host: psys (or psys-N) alone when present (the whole platform),
 * else every package (or each die of it, `package-N-die-M`) plus its dram. core/uncore sit
 * inside their package and are never added. intel-rapl-mmio duplicates the MSR zones of the
 * same name: the MSR one is kept. `packageScope` (AMD, Hygon): die zones are one package's.
 * `withoutPsys`: the packages and dram even where psys is there (its counter cannot be read).
 */
export function discoverRaplDomains(
  root: string,
  read: ReadText = readText,
  packageScope = false,
  withoutPsys = false,
): RaplDomain[] {
  return discoverRapl(root, read, packageScope, withoutPsys).domains;
}

/** discoverRaplDomains, with the zones listed whose name could not be read. */
function discoverRapl(
  root: string,
  read: ReadText,
  packageScope: boolean,
  withoutPsys: boolean,
): { domains: RaplDomain[]; unnamed: UnnamedZone[] } {
  const { zones, unnamed } = listPowercapZones(root, read);

  // A subzone whose package could not be named is no top-level zone of its own: undefined.
  const path = (z: Zone): string | undefined => {
    if (z.parent === undefined) return z.name;
    const parent = zones.get(z.parent);
    return parent ? `${parent.name}/${z.name}` : undefined;
  };
  // Deduplicate by the zone's name path (`package-0/dram`), preferring the MSR interface.
  const byPath = new Map<string, Zone>();
  for (const z of [...zones.values()].sort((a, b) => Number(a.mmio) - Number(b.mmio))) {
    const key = path(z);
    if (key !== undefined && !byPath.has(key)) byPath.set(key, z);
  }
  const sorted = [...byPath.entries()].sort(([a], [b]) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  const kept = packageScope ? onePerPackage(sorted) : sorted;

  const domain = (z: Zone, device: string, component: Component): RaplDomain => {
    let maxRangeUj: number | undefined;
    try {
      maxRangeUj = parseRange(read(join(root, z.dir, 'max_energy_range_uj')));
    } catch {
      maxRangeUj = undefined;
    }
    return {
      device,
      component,
      zone: z.id,
      energyPath: join(root, z.dir, 'energy_uj'),
      maxRangeUj,
      maxPowerUw: maxPowerOf(join(root, z.dir), read),
    };
  };

  const psys = withoutPsys ? [] : kept.filter(([key]) => PSYS.test(key));
  if (psys.length > 0)
    return { domains: psys.map(([key, z]) => domain(z, key, 'system')), unnamed };

  const out: RaplDomain[] = [];
  for (const [key, z] of kept) {
    // A package of several dies has a zone per die: `package-0-die-1` (intel_rapl_common.c).
    const pkg = /^package-(\d+(?:-die-\d+)?)$/.exec(key);
    if (pkg) out.push(domain(z, key, 'package'));
    const dram = /^package-(\d+(?:-die-\d+)?)\/dram$/.exec(key);
    if (dram) out.push(domain(z, `dram-${dram[1]}`, 'dram'));
    // A dram zone at top level (some servers) counts once, beside the packages.
    if (key === 'dram') out.push(domain(z, 'dram', 'dram'));
  }
  return { domains: out, unnamed };
}

const isPermission = (code: string | undefined) => code === 'EACCES' || code === 'EPERM';

/**
 * The probe's failure for `code`: fixable (chmod), or refused (a Node flag: the grants are fixed
 * at start, so never worth trying again) where it is.
 */
function unreadable(reason: string, code: string | undefined): ProbeResult {
  if (isPermission(code)) return { ok: false, reason, fixable: true };
  return isRefusalCode(code) ? { ok: false, reason, refused: true } : { ok: false, reason };
}

/**
 * Where the chmod that makes energy_uj readable is run: the root's flat zones, or, where the
 * zones are nested (a container's mount of /sys/devices/virtual/powercap, read-only), the host's.
 */
function chmodFix(path: string, root: string): string {
  // join normalizes: a root given with a trailing slash is the same folder.
  const flat = dirname(dirname(path)) === dirname(join(root, 'zone'));
  const at = flat ? root : '/sys/class/powercap';
  const cmd = `\`sudo chmod a+r ${at}/intel-rapl:*/energy_uj ${at}/intel-rapl:*:*/energy_uj\``;
  return flat ? `Fix: ${cmd}` : `Fix, on the host: ${cmd}`;
}

export function unreadableReason(path: string, code: string | undefined, root: string): string {
  if (isRefusalCode(code)) return refusedReading(path, root);
  if (isPermission(code)) {
    return (
      `cannot read ${path}: permission denied (energy_uj is readable only by root since ` +
      `CVE-2020-8694). ${chmodFix(path, root)} ` +
      '(lost at reboot), or a udev rule in /etc/udev/rules.d/99-powercap.rules: ' +
      'SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod a+r /sys/class/powercap/%k/energy_uj"'
    );
  }
  return `cannot read ${path} (${code ?? 'not a counter'})`;
}

/**
 * The probe of a tree with a package or psys zone that cannot be named. A link to nothing is a
 * container's bind mount of /sys/class/powercap: its links lead into /sys/devices/virtual/powercap,
 * which Docker and containerd mask in a container not --privileged (since CVE-2020-8694), so the
 * folder itself is what to mount, where no mask lies.
 */
function unnamedProbe(z: UnnamedZone, root: string): ProbeResult {
  if (z.missingTarget !== undefined) {
    return {
      ok: false,
      reason:
        `${z.path} is a link to ${z.missingTarget}, which is not there: in a container, ` +
        "the host's /sys/class/powercap links into /sys/devices/virtual/powercap, which Docker " +
        'and containerd hide. Mount that folder elsewhere and read it there: ' +
        '`-v /sys/devices/virtual/powercap:/host/powercap:ro -e ENERGY_POWERCAP_ROOT=/host/powercap`',
    };
  }
  const reason =
    `cannot read ${join(z.path, 'name')} (${z.code ?? 'not a file'}): a package or psys zone ` +
    'that cannot be named, which a host figure without it would be short of';
  return isRefusalCode(z.code)
    ? unreadable(refusedReading(join(z.path, 'name'), root), z.code)
    : unreadable(reason, z.code);
}

/** Why an interval has no RAPL reading; `kind` groups the hand-over's log lines. */
function raplGap(unread: readonly RaplDomain[]): Error & { kind: string } {
  const message =
    unread.length > 0
      ? `${unread.map((d) => d.energyPath).join(', ')} cannot be read`
      : 'its counters read again after a gap: this interval only sets their new baseline';
  return Object.assign(new Error(message), { kind: 'unreadable' });
}

interface FirstRead {
  /** Each domain's counter, undefined where it could not be read. */
  values: (number | undefined)[];
  failed: { domain: RaplDomain; code: string | undefined }[];
}

/** Reads every domain's counter once: the baseline, and which cannot be read (and why). */
function readAll(domains: readonly RaplDomain[], read: ReadText): FirstRead {
  const out: FirstRead = { values: [], failed: [] };
  for (const domain of domains) {
    let value: number | undefined;
    let code: string | undefined;
    try {
      value = parseMicrojoules(read(domain.energyPath));
    } catch (err) {
      code = errorCode(err);
    }
    out.values.push(value);
    if (value === undefined) out.failed.push({ domain, code });
  }
  return out;
}

function backText(d: RaplDomain, recovered: boolean): string {
  return recovered
    ? `rapl: ${d.energyPath} reads again: ${d.device} is counted again, its energy while ` +
        'unread recovered from its counter'
    : `rapl: ${d.energyPath} reads again: ${d.device} is counted again from its next reading`;
}

/** A zone's counter before it could not be read, and its gap so far. */
interface Gap {
  fromUj: number;
  /** Milliseconds of the unread ticks. */
  ms: number;
  /**
   * False once a tick of it may have spanned a suspend (a resume may reset the counter) or
   * read no zone at all (its interval was covered by another source, the estimate).
   */
  recoverable: boolean;
}

/** The package and dram domains of a tree whose psys cannot be read; none if it cannot list. */
function packagesInstead(root: string, read: ReadText, packageScope: boolean): RaplDomain[] {
  try {
    return discoverRaplDomains(root, read, packageScope, true);
  } catch {
    return [];
  }
}

export interface RaplOptions {
  /** config.energy.powercapRoot */
  root: string;
  logger: Logger;
  read?: ReadText;
  /** The CPU's vendor_id (`AuthenticAMD`); cpu-vendor.ts's by default. */
  cpuVendor?: () => string | undefined;
  /**
   * The zones' counters read at the meter's early baseline (EarlyBaseline.raplCounters), whose
   * first interval runs from there: the source's does too, where every zone it reads was read
   * then. The meter that samples it must have been given that baseline.
   */
  early?: ReadonlyMap<string, number>;
}

/**
 * Linux RAPL through the powercap sysfs tree. Counters are kept as integer microjoules and
 * converted to joules only in the readings, so sums stay exact to the microjoule.
 */
export function createRaplSource(options: RaplOptions): PowerSource & {
  readonly domains: readonly RaplDomain[];
} {
  const { root, logger } = options;
  const read = options.read ?? readText;
  /** The early baseline, for the first probe. */
  let early = options.early;
  /** The early baseline stands as the counters' last values until the meter's first tick. */
  let fromEarly = false;
  const vendor = options.cpuVendor ?? cpuVendor;
  let domains: RaplDomain[] = [];
  /** Last counter value per domain; undefined after a failed read (re-baseline on return). */
  let last: (number | undefined)[] = [];
  const warned = new Set<string>();
  /** Zones left out at the probe (said there): their first reading is said as their return. */
  const lostAtProbe = new Set<string>();
  /**
   * Zones unreadable since the probe, while they fail or flap: kept until readable for a
   * window, so a zone lost and back every sample is told as the OTLP pushes are (FailureRun).
   */
  const runs = new Map<string, FailureRun>();
  /** Zones read at least once: left out later, their gap is a partial reading, not silence. */
  const everRead = new Set<string>();
  /** Zones unread since a value was read, by zone: what their return may recover. */
  const open = new Map<string, Gap>();

  const readCounter = (d: RaplDomain): number | undefined => {
    try {
      return parseMicrojoules(read(d.energyPath));
    } catch {
      return undefined;
    }
  };

  const warnReset = (d: RaplDomain, prev: number, cur: number, seconds: number) => {
    const key = `reset ${d.zone}`;
    if (warned.has(key) || counterStep(prev, cur, d.maxRangeUj, seconds) !== 'reset') return;
    warned.add(key);
    logger.warn(
      { zone: d.zone, previousUj: prev, currentUj: cur, maxRangeUj: d.maxRangeUj },
      `rapl: ${d.energyPath} went back from ${prev} to ${cur} µJ, too far for a wrap at ` +
        `${d.maxRangeUj} µJ: counted as a reset from 0 (suspend/resume?)`,
    );
  };

  /**
   * A zone unread on a tick that returns readings: a chmod or a hotplug mid-run changes what the
   * host figure covers, and the power drop would say nothing. Its loss is said, and flapping
   * with its counts at most once a window.
   */
  const unreadAt = (d: RaplDomain, nowMs: number) => {
    if (lostAtProbe.has(d.zone)) return;
    let run = runs.get(d.zone);
    if (run === undefined) {
      run = new FailureRun();
      runs.set(d.zone, run);
    }
    const news = run.failed('unreadable', nowMs);
    if (news === undefined) return;
    const how =
      news === 'flapping'
        ? ` on and off (${tallyText(run.tally, 'reads')}); ${d.device} is left out while it cannot`
        : `; ${d.device} is left out until it reads again`;
    logger.warn(
      { zone: d.zone },
      `rapl: ${d.energyPath} cannot be read${how} (the host's energy, and the process's and its ` +
        "operations' shares of it, are short of it meanwhile)",
    );
  };

  /**
   * A zone read at `nowMs`: its return said (`recovered`: with its gap's energy), or a flapping
   * spell's end once it held a window.
   */
  const readAt = (d: RaplDomain, nowMs: number, recovered: boolean) => {
    if (lostAtProbe.delete(d.zone)) {
      logger.warn({ zone: d.zone }, backText(d, false));
      return;
    }
    const run = runs.get(d.zone);
    if (run === undefined) return;
    const news = run.succeeded(nowMs);
    if (run.settled) runs.delete(d.zone);
    if (news === 'recovered') logger.warn({ zone: d.zone }, backText(d, recovered));
    if (news === 'steady') {
      logger.warn(
        { zone: d.zone },
        `rapl: ${d.energyPath} reads steadily again, none failed for ` +
          `${elapsedText(FLAP_WINDOW_MS)} (${spellText(run.tally, 'reads')})`,
      );
    }
  };

  /** The reading of a zone back on `tick` with its gap's energy, where it can be recovered. */
  const recoverGap = (
    d: RaplDomain,
    cur: number,
    tick: SampleTick,
    awake: boolean,
  ): EnergyReading | undefined => {
    const gap = open.get(d.zone);
    open.delete(d.zone);
    if (!gap?.recoverable || !awake) return undefined;
    const ms = gap.ms + tick.elapsedMs;
    const uj = recoveredUj(d, gap.fromUj, cur, ms);
    if (uj === undefined || !(ms > 0)) return undefined;
    // Spread at its average power over the gap and this interval: the part before is no power.
    const gapUj = Math.round((uj * gap.ms) / ms);
    const seconds = tick.elapsedMs / 1000;
    return {
      component: d.component,
      device: d.device,
      joules: uj / 1e6,
      watts: seconds > 0 ? (uj - gapUj) / 1e6 / seconds : 0,
      gapJoules: gapUj / 1e6,
    };
  };

  /**
   * Takes the early baseline as the counters' last values where every zone read now was read
   * then; else the first interval counts from the meter's start, as without one, said once.
   */
  const countFromEarly = (counters: ReadonlyMap<string, number>): boolean => {
    const missed = domains.filter((d, i) => last[i] !== undefined && !counters.has(d.energyPath));
    if (missed.length === 0) {
      last = domains.map((d, i) =>
        last[i] === undefined ? undefined : counters.get(d.energyPath),
      );
      return true;
    }
    logger.warn(
      { zones: missed.map((d) => d.zone) },
      `rapl: ${missed.map((d) => d.energyPath).join(', ')} could not be read as carbonscope ` +
        "was created: RAPL's first interval counts from the meter's start, the work before it " +
        'in its time and CPU share but not in its energy',
    );
    return false;
  };

  return {
    name: 'rapl',
    estimated: false,
    kind: 'host',
    get domains() {
      return domains;
    },

    async probe(): Promise<ProbeResult> {
      // Only the first probe's: one probed again later (a chmod made meanwhile) is far from it.
      const counters = early;
      early = undefined;
      const packageScope = PACKAGE_SCOPE_VENDORS.has(vendor() ?? '');
      let found: RaplDomain[];
      let unnamed: UnnamedZone[];
      try {
        ({ domains: found, unnamed } = discoverRapl(root, read, packageScope, false));
      } catch (err) {
        const code = errorCode(err);
        if (code === 'ENOENT') return { ok: false, reason: `no powercap tree at ${root}` };
        // Refused, the tree may be there or not: only the grant tells, and the user says.
        return isRefusalCode(code)
          ? unreadable(refusedReading(root), code)
          : { ok: false, reason: `cannot list ${root} (${code})` };
      }
      // A package or psys zone that cannot be named is a share of the host no figure may miss.
      const lost = unnamed.find((u) => u.topLevel);
      if (found.length === 0) {
        return lost
          ? unnamedProbe(lost, root)
          : { ok: false, reason: `no RAPL package or psys zone under ${root}` };
      }
      let first = readAll(found, read);
      const leftOut: string[] = [];
      const psys = first.failed.find((f) => f.domain.component === 'system');
      if (psys) {
        // The packages and dram are what a machine without psys reads: measured, if narrower.
        const instead = packagesInstead(root, read, packageScope);
        if (instead.length > 0) {
          found = instead;
          first = readAll(found, read);
        }
      }
      if (lost && found[0]?.component !== 'system') return unnamedProbe(lost, root);
      // A package unread is a socket's whole energy missing, and the process may run on it: a
      // measured figure without it would be wrong, not narrow. A dram zone is the smaller part.
      const essential = first.failed.find((f) => f.domain.component !== 'dram');
      if (essential) {
        const reason = unreadableReason(essential.domain.energyPath, essential.code, root);
        return unreadable(reason, essential.code);
      }
      // Said only once the packages read: where they cannot either (all root-only, the usual
      // case), the estimate is used and the late start probes again every minute.
      if (psys && found[0]?.component !== 'system') {
        logger.warn(
          { zone: psys.domain.zone },
          `rapl: ${unreadableReason(psys.domain.energyPath, psys.code, root)}; the package and ` +
            'dram zones are read instead (what psys counts beyond them, the rest of the ' +
            'platform, is left out)',
        );
        leftOut.push(`${psys.domain.device} (${psys.domain.zone}) left out: it cannot be read`);
      }
      domains = found;
      last = first.values;
      open.clear();
      for (const d of found) everRead.add(d.zone);
      for (const { domain: d, code } of first.failed) {
        everRead.delete(d.zone);
        lostAtProbe.add(d.zone);
        logger.warn(
          { zone: d.zone },
          `rapl: ${unreadableReason(d.energyPath, code, root)}; ${d.device} is left out until ` +
            'it can be read (the host figure is without it meanwhile)',
        );
        leftOut.push(`${d.device} (${d.zone}) left out: it cannot be read`);
      }
      for (const d of domains) {
        if (d.maxRangeUj === undefined) {
          logger.warn(
            { zone: d.zone },
            `rapl: ${d.zone}/max_energy_range_uj unreadable; a counter drop will count from 0 (may undercount)`,
          );
        }
      }
      fromEarly = counters !== undefined && countFromEarly(counters);
      const readable = domains.filter((_, i) => last[i] !== undefined);
      return {
        ok: true,
        detail: [readable.map((d) => `${d.device} (${d.zone})`).join(', '), ...leftOut].join('; '),
      };
    },

    sample(tick: SampleTick): EnergyReading[] {
      // The meter's baseline, its first interval from the early one: the counters' too.
      if (fromEarly) {
        fromEarly = false;
        if (tick.edge === 'start') return [];
      }
      const seconds = tick.elapsedMs / 1000;
      const out: EnergyReading[] = [];
      const unread: RaplDomain[] = [];
      /** Domains read before whose energy this tick is missing: the host figure is partial. */
      const gaps: RaplDomain[] = [];
      let rebased = false;
      const awake = tick.suspendedMs === 0;
      // Another source's readings stood for the last tick: a gap across it recovers nothing.
      if (tick.coveredBefore) for (const gap of open.values()) gap.recoverable = false;
      for (let i = 0; i < domains.length; i++) {
        const d = domains[i];
        const cur = readCounter(d);
        const prev = last[i];
        if (cur === undefined) {
          // Skip this domain until it reads again; its return recovers the gap from its counter
          // only where no wrap, suspend or reset can hide in the delta (recoveredUj).
          if (prev !== undefined) open.set(d.zone, { fromUj: prev, ms: 0, recoverable: true });
          const gap = open.get(d.zone);
          if (gap) {
            gap.ms += tick.elapsedMs;
            gap.recoverable &&= awake;
          }
          last[i] = undefined;
          unread.push(d);
          if (everRead.has(d.zone)) gaps.push(d);
          continue;
        }
        last[i] = cur;
        const back = prev === undefined ? recoverGap(d, cur, tick, awake) : undefined;
        // Said even on a tick thrown below (all its zones only rebased): else a zone lost before
        // it came back unsaid, and stayed lost to the next loss's line.
        if (lostAtProbe.size > 0 || runs.size > 0) readAt(d, tick.nowMs, back !== undefined);
        if (back) {
          out.push(back);
          continue;
        }
        if (prev === undefined) {
          rebased = true;
          if (everRead.has(d.zone)) gaps.push(d);
          everRead.add(d.zone);
          continue;
        }
        if (cur < prev && d.maxRangeUj !== undefined) warnReset(d, prev, cur, seconds);
        const joules = counterDeltaUj(prev, cur, d.maxRangeUj, seconds) / 1e6;
        out.push({
          component: d.component,
          device: d.device,
          joules,
          watts: seconds > 0 ? joules / seconds : 0,
        });
      }
      // Nothing read at all is no 0 W: thrown, so whoever samples (the selection's hand-over to
      // the estimate, else the meter) says it once and covers the interval.
      if (out.length === 0 && (unread.length > 0 || rebased)) {
        // Another source (the estimate) covers this interval: a gap across it recovers nothing.
        for (const gap of open.values()) gap.recoverable = false;
        throw raplGap(unread);
      }
      // Not on a thrown tick: the meter says that gap, and a zone still unread after it is said
      // as lost on the next tick that reads any.
      for (const d of unread) unreadAt(d, tick.nowMs);
      // As a GPU's silent interval is (nvidia-smi.ts): a reading of what was read, 0 J, marked.
      for (const d of gaps) {
        out.push({ component: d.component, device: d.device, joules: 0, watts: 0, partial: true });
      }
      return out;
    },

    async close(): Promise<void> {},
  };
}
