import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { type CpuInfo, cpus, freemem, machine, release, totalmem, type } from 'node:os';
// The codes only (the main entry registers all 78 locales' names); English is registered below.
import countries from 'i18n-iso-countries/index.js';
import { JOULES_PER_KWH } from '../emissions.js';
import {
  type EnergySnapshot,
  type GpuShareOutcome,
  type HostCpuStandIns,
  type SciScore,
  type Scope,
  type SourceDevice,
  sciOf,
  type UnsharedGpu,
} from '../energy/index.js';
import { logicalCpus } from '../logical-cpus.js';
import { CODECARBON_COUNTRY_NAMES } from './codecarbon-country-names.js';
import type { EmissionsRow } from './csv.js';
import { treeCpuMeasured } from './tree-cpu-reader.js';

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

const BYTES_PER_GB = 1024 ** 3;

/** `uname -p` answers at once; a hung one must not hold the end of a run. */
const UNAME_TIMEOUT_MS = 2000;

/** CodeCarbon's three energy columns; the meter's components fold into them. */
export type CsvComponent = 'cpu' | 'gpu' | 'ram';

/** package (RAPL), system (psys, the whole platform) and cpu (estimate) are CPU-side power. */
export function csvComponentOf(component: string): CsvComponent {
  if (component === 'gpu') return 'gpu';
  if (component === 'dram' || component === 'ram') return 'ram';
  return 'cpu';
}

export interface ComponentEnergy {
  component: string;
  source: string;
  estimated: boolean;
  joules: number;
  /** Average over the run. */
  watts: number;
}

/** One grid intensity source's part in pricing the report's energy (run: the command's). */
export interface PricedSource {
  /** `electricity-maps`, `annual-average`, `world-average`, `fixed`. */
  source: string;
  estimated: boolean;
  stale: boolean;
  /** The energy it priced, J (IT energy, before the PUE). */
  joules: number;
  /** Its share of the priced energy, 0..1. */
  share: number;
  /** Its intensity averaged over the energy it priced, gCO2e/kWh. */
  carbonIntensity: number;
}

/** What one `run` or `monitor` found: the summary, the --json output and the CSV row. */
export interface Report {
  command: 'run' | 'monitor';
  /** The metered command line (run only). */
  argv?: string[];
  projectName: string;
  runId: string;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  /** process: the command's tree (its share of the host); host: the whole machine. */
  scope: 'process' | 'host';
  energy: {
    joules: number;
    kwh: number;
    averageWatts: number;
    components: ComponentEnergy[];
    /** True when any part of the figure comes from a model rather than a meter. */
    estimated: boolean;
    /** Of `joules`, those a model gave (its estimated components'); the rest were measured. */
    estimatedJoules: number;
    /**
     * False when the command's CPU time could not be read, or read one step of the reader's
     * clock or less (too little to resolve): energy, emissions and the command's embodied share
     * are then not real figures, whatever the numbers beside this say. Its `gpu` components
     * excepted, where measurement.gpuShare.read: the command's GPU share, measured (the CSV's
     * gpu_energy too).
     */
    known: boolean;
    /** Why `known` is false, in words. */
    unknownReason?: string;
    /**
     * True when the figure (and the emissions, embodied share and SCI from it) can only be
     * short: the command's CPU time was read by ps, which misses what a process spends after
     * the last sample before it ends; or the figure is the command's GPU share alone
     * (cpuUnmeasured). The notes say so too.
     */
    lowerBound: boolean;
    /**
     * Set where the command's CPU time read one step of the clock or less (too little to
     * resolve) while its GPU share was measured: why, in words. The figure, its components and
     * the emissions are then the GPU share alone (its CPU-side share is left out, lowerBound),
     * the embodied share (which follows CPU time) is not real and `sci` is null.
     */
    cpuUnmeasured?: string;
  };
  /** Whole-machine energy over the same time, for context (also set for `run`). */
  host: {
    joules: number;
    averageWatts: number;
    components: ComponentEnergy[];
    /** Whether any of the machine's figures is a model's, not a reading. */
    estimated: boolean;
    /** Of `joules`, those a model gave (its estimated components'); the rest were measured. */
    estimatedJoules: number;
    /** The GPUs the sources read (`gpu0`, `NVIDIA H200`); none when no GPU source runs. */
    gpus: SourceDevice[];
  };
  emissions: {
    grams: number;
    kg: number;
    gramsPerSecond: number;
    /** Energy counted before any grid intensity was known, so without emissions. */
    unpricedJoules: number;
  };
  /**
   * SCI's M over the run: the command's share (run) or the machine's (monitor) of the host's
   * embodied emissions, with the figures it comes from. Always estimated.
   */
  embodied: {
    grams: number;
    gramsPerSecond: number;
    settings: EnergySnapshot['embodied'];
  };
  /**
   * The run's SCI, one run being the functional unit: (E × I + M) / R with R = 1. Null when
   * E × I is not known (no grid intensity, or the command's CPU time unreadable).
   */
  sci: (SciScore & { unit: 'run' }) | null;
  /**
   * The grid intensity of the last sample (zone, value, source, flags), and `sources`: each that
   * priced the energy, most energy first, with its share of it (empty where none was priced).
   */
  grid: EnergySnapshot['grid'] & { sources: PricedSource[] };
  pue: number;
  measurement: {
    sources: EnergySnapshot['sources'];
    reasons: string[];
    attribution?: string;
    /** How the command's CPU time was read (run only). */
    cpuTime?: string;
    /**
     * The command's CPU seconds as read (run only, where readable); one step of the clock
     * (commandCpuResolutionSeconds) or less: too little to measure.
     */
    commandCpuSeconds?: number;
    /** The step of the clock the command's CPU time is read with, s (run only, where readable). */
    commandCpuResolutionSeconds?: number;
    /**
     * How many processes of the command's tree a read found outside it still running (orphaned,
     * daemonized): their CPU time after that is not counted (run only, where readable; 0 too).
     */
    commandProcessesLeftRunning?: number;
    /**
     * Whether the command's share of the GPUs was read (run, with nvidia-smi pmon), and why not
     * where it was not, as the notes say it: `reason` (pmon failed or ended, another pid
     * namespace), `unshared` (the GPUs it got no share of, each with why: MIG mode). Absent
     * where it was not tried (no nvidia-smi GPU, monitor).
     */
    gpuShare?: { read: boolean; reason?: string; unshared?: UnsharedGpu[] };
    /** Things the user should know about the figures (GPU not attributed, and so on). */
    notes: string[];
  };
  /** Host CPU busy share over the run, 0..100. */
  cpuUtilizationPercent: number | null;
  /**
   * The GPUs' mean SM utilization over the run, all processes' (not the command's alone), 0..100:
   * from nvidia-smi pmon (run only); null where it was not read.
   */
  gpuUtilizationPercent: number | null;
  /** The command's end (run only). */
  exit?: {
    code: number | null;
    signal: string | null;
    exitCode: number;
    /**
     * Where carbonscope was stopped or its loop blocked as the command ended: the end is known
     * only to lie within these seconds from the spawn (from when carbonscope last ran to when it
     * saw the exit); absent, it ended when seen.
     */
    endedWithinSeconds?: [number, number];
  };
  output?: { path: string; written: boolean; error?: string };
}

function componentsOf(snapshot: EnergySnapshot, scope: 'host' | 'process', seconds: number) {
  return snapshot.power
    .filter((p) => p.scope === scope)
    .map((p) => ({
      component: p.component,
      source: p.source,
      estimated: p.estimated,
      joules: p.joules,
      watts: seconds > 0 ? p.joules / seconds : 0,
    }));
}

/**
 * The joules of the estimated components: the meter's estimatedJoules, of the figure the report
 * gives (where that is the GPU share alone, of it).
 */
function estimatedJoulesOf(components: readonly ComponentEnergy[]): number {
  return components.reduce((sum, c) => (c.estimated ? sum + c.joules : sum), 0);
}

export interface ReportInput {
  command: 'run' | 'monitor';
  argv?: string[];
  projectName: string;
  runId: string;
  startedAt: Date;
  endedAt: Date;
  durationSeconds: number;
  snapshot: EnergySnapshot;
  cpuUtilizationPercent: number | null;
  cpuTime?: string;
  processEnergyKnown?: boolean;
  /** The GPUs the sources read. */
  gpus?: readonly SourceDevice[];
  /**
   * Whether the command's share of the GPUs was read (run, with nvidia-smi pmon), and why not
   * where it was not; undefined where it was not tried.
   */
  gpuShare?: GpuShareOutcome;
  /** The GPUs' mean SM utilization, all processes', where pmon read it (run). */
  gpuUtilizationPercent?: number;
  /** The grid sources that priced each scope's energy (IntensityMix); none where not given. */
  pricedBy?: { of(scope: Scope): PricedSource[] };
  /**
   * The command's CPU seconds as read at its end (run only, where readable), the step of the
   * clock that read them, and what a reading of one step or less means: too little to measure.
   */
  processCpu?: {
    seconds: number;
    resolutionSeconds: number;
    unmeasured: string;
    /** Why the reading can only be short, where it can (ps). */
    lowerBound?: string;
  };
}

/** Why the command's energy is not known (run only), undefined when it is. */
function processEnergyUnknown(input: ReportInput): string | undefined {
  if (input.command !== 'run') return undefined;
  if (input.processEnergyKnown === false) return 'its CPU time cannot be read here';
  // Zero ticks is not zero CPU, and one tick is not one tick's worth: a share from either
  // would print a figure as if measured.
  const cpu = input.processCpu;
  if (cpu && !treeCpuMeasured(cpu.seconds, cpu.resolutionSeconds)) return cpu.unmeasured;
  return undefined;
}

/** The outcome as --json gives it: its fallback is the reason the share is not (all) read. */
function gpuShareField(outcome: GpuShareOutcome): NonNullable<Report['measurement']['gpuShare']> {
  return {
    read: outcome.read,
    ...(outcome.fallback === undefined ? {} : { reason: outcome.fallback }),
    ...(outcome.unshared === undefined ? {} : { unshared: outcome.unshared }),
  };
}

/** `gpu1: pmon printed no utilization for it (MIG mode?)`, each GPU's, joined. */
function unsharedText(unshared: readonly UnsharedGpu[]): string {
  return unshared.map((gpu) => `${gpu.device}: ${gpu.why}`).join('; ');
}

/**
 * What the command's GPU figures are: its share by SM utilization where nvidia-smi pmon was
 * read, and which GPUs it got none of and why; otherwise (with why, where it was tried) that GPU
 * energy is the host's only.
 */
function gpuNotes(
  outcome: GpuShareOutcome | undefined,
  host: readonly ComponentEnergy[],
  command: readonly ComponentEnergy[],
): string[] {
  if (!host.some((c) => c.component === 'gpu')) return [];
  const unshared = outcome?.unshared ?? [];
  if (outcome?.read && command.some((c) => c.component === 'gpu')) {
    const notes = [
      "the command's GPU energy is its share of each GPU's by SM utilization from nvidia-smi pmon (the SM % of its processes over that of all processes, per interval); GPU energy while no process used the SMs is in the host figures only",
    ];
    if (outcome.fallback) notes.push(outcome.fallback);
    if (unshared.length > 0) {
      const which = unshared.length === 1 ? 'one GPU' : `${unshared.length} GPUs`;
      notes.push(
        `the command got no share of ${which}, whose energy is in the host figures only: ${unsharedText(unshared)}`,
      );
    }
    return notes;
  }
  const whys = [
    ...(outcome?.fallback ? [outcome.fallback] : []),
    ...(unshared.length > 0 ? [unsharedText(unshared)] : []),
  ];
  const why = whys.map((w) => `; ${w}`).join('');
  return [
    `GPU energy is the whole devices, not attributed to the command (no per-process GPU energy is read${why}); it is in the host figures only`,
  ];
}

/**
 * The command's figures when its CPU time resolves nothing but its GPU share was measured (a
 * process that only waits on the GPU): the GPU components alone, and the emissions of their
 * energy. The meter keeps emissions per scope, not per component, so they are the scope's at
 * its average intensity per joule: exact at one intensity over the run, and the CPU-side
 * energy they are taken from is at most one tick's worth. A share of 0 J is measured only where
 * pmon showed the command on the SMs (`busy`); otherwise (a `sleep` beside a load) it says
 * nothing of the command, whose figure stays unknown.
 */
function gpuShareAlone(
  components: readonly ComponentEnergy[],
  totals: EnergySnapshot['totals']['process'],
  busy: boolean,
): { components: ComponentEnergy[]; joules: number; grams: number } | undefined {
  const gpu = components.filter((c) => c.component === 'gpu');
  const joules = gpu.reduce((sum, c) => sum + c.joules, 0);
  if (joules > 0 && totals.joules > 0) {
    return { components: gpu, joules, grams: (totals.grams * joules) / totals.joules };
  }
  return busy && gpu.length > 0 ? { components: gpu, joules: 0, grams: 0 } : undefined;
}

/** Why a GPU share of 0 J is still the command's measured figure (gpuShareAlone's `busy`). */
const BUSY_ZERO_NOTE =
  "the command's GPU share is 0 J though nvidia-smi pmon showed its processes on the SMs: no GPU power reading came while it did (pmon samples once a second)";

/**
 * What the figures of the intervals whose host CPU time was not read rest on. `monitor` measures
 * no process (its process CPU reads 0), so before a first reading the host stood in as idle.
 */
function hostCpuStandInNote(
  { intervals, reason }: HostCpuStandIns,
  samples: number,
  command: Report['command'],
): string {
  const standIn =
    command === 'monitor'
      ? 'its last reading stood in (idle where none was read yet), and an estimated power rests on it'
      : "its last reading stood in (the process's own CPU time where none was read yet), and the process's share and an estimated power rest on it";
  return `the host's CPU time was not read in ${intervals} of ${samples} intervals (${reason}): ${standIn}`;
}

/** Folds the meter's final snapshot into the report of a run. */
export function buildReport(input: ReportInput): Report {
  const { snapshot, durationSeconds: seconds } = input;
  const scope = input.command === 'run' ? 'process' : 'host';
  const totals = snapshot.totals[scope];
  const hostComponents = componentsOf(snapshot, 'host', seconds);
  const notes: string[] = [];
  const components = componentsOf(snapshot, scope, seconds).filter(
    // Shares read in another pid namespace are none (0 J): not a measurement of the command.
    (c) => scope !== 'process' || c.component !== 'gpu' || input.gpuShare?.read !== false,
  );
  if (scope === 'process') {
    notes.push(...gpuNotes(input.gpuShare, hostComponents, components));
    if (input.processEnergyKnown === false) {
      notes.push('the command CPU time could not be read here, so its energy is not known');
    }
  }
  if (snapshot.unpricedJoules > 0) {
    notes.push(
      `${snapshot.unpricedJoules.toFixed(1)} J were used before a grid intensity was known and have no emissions figure`,
    );
  }
  const standIns = snapshot.attribution.hostCpuStandIns;
  if (standIns) notes.push(hostCpuStandInNote(standIns, snapshot.samples, input.command));
  const cpuReason = processEnergyUnknown(input);
  // Unread CPU time is no figure; CPU time too small to resolve beside a measured GPU share is
  // a figure that leaves out only what the CPU resolves nothing of.
  const gpuAlone =
    cpuReason !== undefined && input.processEnergyKnown !== false && input.gpuShare?.read
      ? gpuShareAlone(components, totals, input.gpuShare.commandBusy === true)
      : undefined;
  const unknownReason = gpuAlone ? undefined : cpuReason;
  const cpuUnmeasured = gpuAlone ? cpuReason : undefined;
  const figure = gpuAlone ?? { components, joules: totals.joules, grams: totals.grams };
  const grams = figure.grams;
  const energyKnown = unknownReason === undefined;
  let lowerBound = scope === 'process' && energyKnown ? input.processCpu?.lowerBound : undefined;
  if (cpuUnmeasured) {
    lowerBound = `the command's energy and emissions are its GPU share alone, at least what it used: its CPU time (${cpuUnmeasured}) gives no CPU-side share; its embodied share, which follows its CPU time, is not known`;
  }
  if (lowerBound) notes.push(lowerBound);
  if (gpuAlone && gpuAlone.joules === 0) notes.push(BUSY_ZERO_NOTE);
  const estimated = gpuAlone
    ? gpuAlone.components.some((c) => c.estimated)
    : components.some((c) => c.estimated) || snapshot.sources.some((s) => s.estimated);
  const sci =
    energyKnown && !cpuUnmeasured && snapshot.grid.carbonIntensity !== null
      ? {
          ...sciOf({ grams, embodiedGrams: totals.embodiedGrams, estimated }),
          unit: 'run' as const,
        }
      : null;
  return {
    command: input.command,
    ...(input.argv ? { argv: input.argv } : {}),
    projectName: input.projectName,
    runId: input.runId,
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt.toISOString(),
    durationSeconds: seconds,
    scope,
    energy: {
      joules: figure.joules,
      kwh: figure.joules / JOULES_PER_KWH,
      averageWatts: seconds > 0 ? figure.joules / seconds : 0,
      components: figure.components,
      estimated,
      estimatedJoules: estimatedJoulesOf(figure.components),
      known: energyKnown,
      ...(unknownReason === undefined ? {} : { unknownReason }),
      lowerBound: lowerBound !== undefined,
      ...(cpuUnmeasured === undefined ? {} : { cpuUnmeasured }),
    },
    host: {
      joules: snapshot.totals.host.joules,
      averageWatts: seconds > 0 ? snapshot.totals.host.joules / seconds : 0,
      components: hostComponents,
      estimated:
        snapshot.totals.host.estimated ||
        hostComponents.some((c) => c.estimated) ||
        snapshot.sources.some((s) => s.estimated),
      estimatedJoules: estimatedJoulesOf(hostComponents),
      gpus: [...(input.gpus ?? [])],
    },
    emissions: {
      grams,
      kg: grams / 1000,
      gramsPerSecond: seconds > 0 ? grams / seconds : 0,
      unpricedJoules: snapshot.unpricedJoules,
    },
    embodied: {
      grams: totals.embodiedGrams,
      gramsPerSecond: seconds > 0 ? totals.embodiedGrams / seconds : 0,
      settings: snapshot.embodied,
    },
    sci,
    grid: { ...snapshot.grid, sources: input.pricedBy?.of(scope) ?? [] },
    pue: snapshot.pue,
    measurement: {
      sources: snapshot.sources,
      reasons: snapshot.reasons,
      ...(scope === 'process' ? { attribution: snapshot.attribution.mode } : {}),
      ...(input.cpuTime ? { cpuTime: input.cpuTime } : {}),
      ...(input.processCpu
        ? {
            commandCpuSeconds: input.processCpu.seconds,
            commandCpuResolutionSeconds: input.processCpu.resolutionSeconds,
          }
        : {}),
      ...(input.gpuShare ? { gpuShare: gpuShareField(input.gpuShare) } : {}),
      notes,
    },
    cpuUtilizationPercent: input.cpuUtilizationPercent,
    gpuUtilizationPercent: input.gpuUtilizationPercent ?? null,
  };
}

/** CodeCarbon writes local time without a zone, to the second: `2024-05-14T10:30:12`. */
export function codeCarbonTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** CodeCarbon's country fields from a zone key (`US-CAL-CISO` -> USA); empty when unknown. */
export function countryOfZone(zone: string): { name?: string; iso3?: string } {
  const alpha2 = zone.slice(0, 2).toUpperCase();
  const iso3 = countries.alpha2ToAlpha3(alpha2);
  if (!iso3) return {};
  return { iso3, name: CODECARBON_COUNTRY_NAMES[iso3] ?? countries.getName(alpha2, 'en') };
}

export interface HostFacts {
  os: string;
  cpuCount: number;
  cpuModel: string | undefined;
  ramTotalGb: number;
  ramUsedGb: number;
  ramUtilizationPercent: number;
}

export interface PlatformParts {
  system: string;
  release: string;
  machine: string;
  /** Linux: `glibc2.36`, '' where no glibc is found (musl). */
  libc?: string;
  /** Linux: what `uname -p` prints (`unknown` on Debian, the CPU model on Gentoo). */
  processor?: string;
}

/**
 * Python's platform.platform(), CodeCarbon's `os`, for Linux (`Linux-6.1.0-x86_64-with-glibc2.36`):
 * the parts joined with `-`, its clean-up of characters and of `unknown`. Elsewhere Python names
 * macOS by its marketing version, which Node does not know: system, release and machine only.
 */
export function pythonPlatform(parts: PlatformParts): string {
  const args = [parts.system, parts.release, parts.machine];
  if (parts.system === 'Linux') args.push(pythonProcessor(parts), 'with', parts.libc ?? '');
  let text = args
    .filter((a) => a.length > 0)
    .map((a) => a.trim())
    .join('-')
    .replaceAll(' ', '_')
    .replace(/[/\\:;"()]/g, '-')
    .replaceAll('unknown', '');
  while (text.includes('--')) text = text.replaceAll('--', '-');
  return text.replace(/-+$/, '');
}

/** uname().processor as platform.platform() takes it: none where `unknown` or the machine again. */
function pythonProcessor({ processor = '', machine }: PlatformParts): string {
  const text = processor.trim();
  return text === 'unknown' || text === machine ? '' : text;
}

/**
 * What `uname -p` prints, as Python's platform module runs it on Linux; '' where it fails. Run
 * once per row: a CSV's end of a run can spare the few milliseconds.
 */
function unameProcessor(): string {
  try {
    const result = spawnSync('uname', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: UNAME_TIMEOUT_MS,
    });
    return result.status === 0 ? result.stdout.trim() : '';
  } catch {
    // Node's permission model refuses child processes by a throw, not a status: the row was lost.
    return '';
  }
}

/** Node 20.13's switch off the report's network part, newer than the @types/node in use. */
type ProcessReportSwitches = NodeJS.ProcessReport & { excludeNetwork?: boolean };

/**
 * `glibc2.36` of the running Node (the C library Python's libc_ver finds on the same host). The
 * report's network part is switched off while it is made: it resolves each open socket's
 * endpoints by a blocking getnameinfo, seconds each where a DNS server does not answer.
 */
function glibc(): string {
  const reporter = process.report as ProcessReportSwitches | undefined;
  if (!reporter) return '';
  const excluded = reporter.excludeNetwork;
  reporter.excludeNetwork = true;
  try {
    const report = reporter.getReport() as { header?: { glibcVersionRuntime?: string } };
    const version = report?.header?.glibcVersionRuntime;
    return version ? `glibc${version}` : '';
  } finally {
    reporter.excludeNetwork = excluded;
  }
}

export type RamUse = Pick<HostFacts, 'ramUsedGb' | 'ramUtilizationPercent'>;

/**
 * The memory in use (total less available, as psutil's `used` and `percent`), averaged over a
 * run's samples by their length: CodeCarbon's ram_used_gb and ram_utilization_percent are the
 * means of its samples, where a reading at the end would miss the command's, freed by then.
 */
export class RamUseMean {
  private usedByteMs = 0;
  private totalByteMs = 0;
  private ms = 0;

  add(elapsedMs: number, total = totalmem(), free = freemem()): void {
    if (!(elapsedMs > 0) || !(total > 0)) return;
    this.usedByteMs += (total - free) * elapsedMs;
    this.totalByteMs += total * elapsedMs;
    this.ms += elapsedMs;
  }

  /** null before any sample. */
  mean(): RamUse | null {
    if (this.ms === 0) return null;
    return {
      ramUsedGb: this.usedByteMs / this.ms / BYTES_PER_GB,
      ramUtilizationPercent: (this.usedByteMs / this.totalByteMs) * 100,
    };
  }
}

/**
 * The host's facts now; `ram` (a RamUseMean's) in place of the memory in use now. `listCpus`:
 * os.cpus(), which tests give empty as a /proc mounted subset=pid does.
 */
export function hostFacts(
  ram: RamUse | null = null,
  listCpus: () => readonly CpuInfo[] = cpus,
): HostFacts {
  const list = listCpus();
  const total = totalmem();
  const used = total - freemem();
  const system = type();
  return {
    os: pythonPlatform({
      system,
      release: release(),
      machine: machine(),
      libc: system === 'Linux' ? glibc() : undefined,
      processor: system === 'Linux' ? unameProcessor() : undefined,
    }),
    cpuCount: logicalCpus(() => list),
    cpuModel: list[0]?.model?.trim() || undefined,
    ramTotalGb: total / BYTES_PER_GB,
    ramUsedGb: used / BYTES_PER_GB,
    ramUtilizationPercent: total > 0 ? (used / total) * 100 : 0,
    ...ram,
  };
}

/**
 * CodeCarbon's `process` or `machine`. CodeCarbon's 38 columns are kept (a file with others is
 * refused), so a figure that can only be short (ps sees a process only while it is listed) or
 * that comes from the power model, not a meter, is marked in the column that says how it was
 * tracked, not in a column of its own.
 */
function trackingMode(report: Report): string {
  const estimated = report.scope === 'process' ? report.energy.estimated : report.host.estimated;
  const suffix = estimated ? '-estimated' : '';
  if (report.scope !== 'process') return `machine${suffix}`;
  return `${report.energy.lowerBound ? 'process-lower-bound' : 'process'}${suffix}`;
}

/**
 * CodeCarbon's gpu_model: each model with its count, `2 x NVIDIA H200`, joined with nothing
 * between them as its resource tracker does (`"".join(f"{i} x {name}" ...)`, codecarbon 3.3.2).
 */
export function codeCarbonGpuModel(gpus: readonly SourceDevice[]): string {
  const counts = new Map<string, number>();
  for (const gpu of gpus) counts.set(gpu.name, (counts.get(gpu.name) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} x ${name}`).join('');
}

export interface RowOptions {
  /**
   * Whether GPUs were looked for (nvidia-smi probed): not with `--source estimate`. Default true.
   */
  gpusSought?: boolean;
}

/**
 * Whether GPUs were looked for and none is read: no GPU source runs though one was tried (not
 * `--source estimate`). A GPU source that runs but listed none is not this: how many there are
 * is not known; nor is a host source that reads a GPU (powermetrics' Apple GPU line).
 */
function noGpuFound(report: Report, sought: boolean): boolean {
  if (!sought || report.host.gpus.length > 0) return false;
  if (report.host.components.some((c) => c.component === 'gpu')) return false;
  return !report.measurement.sources.some((s) => s.kind === 'gpu');
}

/**
 * CodeCarbon 3.3.2's GPU columns where it finds no GPU (its own emissions-formats.csv): `0.0`
 * power and energy, `0` GPUs and no model, and utilization `0`, the int its mean of an empty
 * history is (`... if history else 0`), not a float as it writes a real mean. A string here, so
 * the row writes it as it stands.
 */
const NO_GPU_COLUMNS: EmissionsRow = {
  gpu_power: 0,
  gpu_energy: 0,
  gpu_count: 0,
  gpu_model: '',
  gpu_utilization_percent: '0',
};

/**
 * Whether a column's figure is known: every one where the command's energy is. Where it is not
 * (its CPU time resolves nothing), the GPU columns still are where pmon measured its GPU share,
 * as --json's gpu component says: a `sleep` beside an idle GPU got a measured 0 J, not an unknown.
 */
function columnKnown(report: Report, column: CsvComponent): boolean {
  if (report.energy.known) return true;
  if (column !== 'gpu' || report.measurement.gpuShare?.read !== true) return false;
  return report.energy.components.some(
    (c) => csvComponentOf(c.component) === 'gpu' && !c.estimated,
  );
}

/** gpu_count and gpu_model of the GPUs a source reads (none read: see noGpuFound). */
function gpuColumns(report: Report): EmissionsRow {
  const gpus = report.host.gpus;
  if (gpus.length > 0) return { gpu_count: gpus.length, gpu_model: codeCarbonGpuModel(gpus) };
  return {};
}

/**
 * The CodeCarbon row of a report. Only what was measured or modelled is filled: no water (no
 * WUE known; CodeCarbon's 0.0 is its WUE setting's default), no cloud detection, no Python or
 * CodeCarbon version, no location. A GPU looked for and not found is CodeCarbon's zeros.
 * Power columns are averages over the run. CodeCarbon multiplies every energy and power column
 * by the PUE, so that emissions = energy_consumed × intensity holds in its file; the row does the
 * same, while the report (summary, --json) keeps the meter's IT energy.
 */
export function reportToRow(
  report: Report,
  host: HostFacts,
  endedAt: Date,
  options: RowOptions = {},
): EmissionsRow {
  const byColumn: Record<CsvComponent, number> = { cpu: 0, gpu: 0, ram: 0 };
  const present = new Set<CsvComponent>();
  for (const c of report.energy.components) {
    const column = csvComponentOf(c.component);
    byColumn[column] += c.joules;
    present.add(column);
  }
  const seconds = report.durationSeconds;
  const pue = report.pue;
  const filled = (column: CsvComponent) => present.has(column) && columnKnown(report, column);
  const kwh = (column: CsvComponent) =>
    filled(column) ? (byColumn[column] * pue) / JOULES_PER_KWH : undefined;
  const watts = (column: CsvComponent) =>
    filled(column) && seconds > 0 ? (byColumn[column] * pue) / seconds : undefined;
  const country = countryOfZone(report.grid.zone);
  const known = report.energy.known;
  const priced = known && report.grid.carbonIntensity !== null;
  return {
    timestamp: codeCarbonTimestamp(endedAt),
    project_name: report.projectName,
    run_id: report.runId,
    duration: seconds,
    emissions: priced ? report.emissions.kg : undefined,
    emissions_rate: priced && seconds > 0 ? report.emissions.kg / seconds : undefined,
    cpu_power: watts('cpu'),
    gpu_power: watts('gpu'),
    ram_power: watts('ram'),
    cpu_energy: kwh('cpu'),
    gpu_energy: kwh('gpu'),
    ram_energy: kwh('ram'),
    energy_consumed: known ? report.energy.kwh * pue : undefined,
    country_name: country.name,
    country_iso_code: country.iso3,
    os: host.os,
    cpu_count: host.cpuCount,
    cpu_model: host.cpuModel,
    ...gpuColumns(report),
    ram_total_size: host.ramTotalGb,
    tracking_mode: trackingMode(report),
    cpu_utilization_percent: report.cpuUtilizationPercent ?? undefined,
    // As CodeCarbon's: every GPU's utilization (all processes), averaged over the run.
    gpu_utilization_percent: report.gpuUtilizationPercent ?? undefined,
    ram_utilization_percent: host.ramUtilizationPercent,
    ram_used_gb: host.ramUsedGb,
    pue: report.pue,
    // No GPU is 0 J of GPU energy, whatever else is known of the command.
    ...(noGpuFound(report, options.gpusSought ?? true) ? NO_GPU_COLUMNS : {}),
  };
}
