import { joinedUrl } from '../../base-url.js';
import type { Logger } from '../../log.js';
import { permissionRefusal } from '../../permission-refusal.js';
import type { EnergySettings, ExporterEndpoint, Settings } from '../../settings.js';
import { spanText } from '../../span-text.js';
import { messageOf } from '../../thrown-text.js';
import { fetchExposition, urlForLog } from './bounded-fetch.js';
import {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  createEstimateSource,
} from './estimate.js';
import { createExporterSource, type ExporterSpec } from './exporter-source.js';
import { GPU_RETRY_FIRST_MS, readsGpus, withLateGpu } from './gpu-late-start.js';
import { withHandover } from './handover.js';
import { keplerSpec } from './kepler.js';
import { withLateStart } from './late-start.js';
import { createNvidiaSmiSource } from './nvidia-smi.js';
import { ownContainer } from './own-container.js';
import { createPowermetricsSource } from './powermetrics.js';
import { checkProbeTimeout } from './probe-timeout.js';
import { queryPrometheus } from './prometheus-query.js';
import { createRaplSource } from './rapl.js';
import { ownScaphandreTarget, scaphandreSpec } from './scaphandre.js';
import type { PowerSource } from './source.js';

type Maker = () => PowerSource;
type SourceKey = 'rapl' | 'powermetrics' | 'nvidia-smi' | 'kepler' | 'scaphandre' | 'estimate';
type Exporter = 'kepler' | 'scaphandre';

/** How the warning about an unreadable RAPL ends: withLateStart tries it again. */
const RETRIED = ' (tried again every minute)';

/** An exposition past this is not one node's exporter (it is streamed, never held whole). */
const MAX_EXPOSITION_BYTES = 64 * 1024 * 1024;
/** A narrowed query answer is a few series per node. */
const MAX_QUERY_BYTES = 8 * 1024 * 1024;

const hasUrl = (e: ExporterEndpoint) => Boolean(e.metricsUrl || e.prometheusUrl);

/** The source as the user asked for it: `ENERGY_SOURCE=rapl`, or the CLI's `--source rapl`. */
function askedFor(energy: EnergySettings, source: string): string {
  return energy.sourceOption ? `${energy.sourceOption} ${source}` : `ENERGY_SOURCE=${source}`;
}

function configuredExporter(energy: EnergySettings): Exporter | undefined {
  if (hasUrl(energy.kepler)) return 'kepler';
  if (hasUrl(energy.scaphandre)) return 'scaphandre';
  return undefined;
}

/** The exporter URL variables set, Kepler's first. */
function exporterUrlVariables(energy: EnergySettings): string[] {
  return (['kepler', 'scaphandre'] as const).flatMap((which) => {
    const { metricsUrl, prometheusUrl } = energy[which];
    const prefix = which.toUpperCase();
    return [
      ...(metricsUrl ? [`${prefix}_METRICS_URL`] : []),
      ...(prometheusUrl ? [`${prefix}_PROMETHEUS_URL`] : []),
    ];
  });
}

/**
 * Says once that an exporter URL the source never reads is unused. Not refused: a template that
 * always sets the URL and picks ENERGY_SOURCE per environment must still start, and auto's
 * Kepler-first order is documented. The variables are named, never their URLs.
 */
function warnUnreadUrls(energy: EnergySettings, used: Exporter | undefined, logger: Logger): void {
  const unread = exporterUrlVariables(energy).filter(
    (name) => !used || !name.startsWith(used.toUpperCase()),
  );
  if (unread.length === 0) return;
  const them = unread.length > 1 ? 'them' : 'it';
  const readers = [...new Set(unread.map((name) => name.split('_')[0]?.toLowerCase()))];
  // Under auto the unread URL is Scaphandre's beside Kepler's; only its own source reads it.
  const who = used ? readers : [...readers, 'auto'];
  const named = `${who.slice(0, -1).join(', ')}${who.length > 1 ? ' or ' : ''}${who.at(-1)}`;
  const why =
    energy.source === 'auto'
      ? `auto takes Kepler's URL first (${named} reads ${them})`
      : `the source is ${energy.source} (${named} reads ${them})`;
  logger.warn(
    { unread },
    `energy: ${unread.join(' and ')} ${unread.length > 1 ? 'are' : 'is'} set but not read: ${why}`,
  );
}

/**
 * Says once that a CPU figure of the model ENERGY_CPU_MODEL did not choose is unused. Not
 * refused: the table gives each its model, so a shared .env with both started before. A
 * per-vCPU figure equal to its default is not told apart from one left unset.
 */
function warnUnreadCpuFigures(energy: EnergySettings, logger: Logger): void {
  const unread =
    energy.cpuModel === 'linear'
      ? energy.cpuTdpWatts === undefined
        ? []
        : ['ENERGY_CPU_TDP_WATTS']
      : [
          ...(energy.cpuMinWattsPerVcpu === AWS_MIN_WATTS_PER_VCPU
            ? []
            : ['ENERGY_CPU_MIN_WATTS_PER_VCPU']),
          ...(energy.cpuMaxWattsPerVcpu === AWS_MAX_WATTS_PER_VCPU
            ? []
            : ['ENERGY_CPU_MAX_WATTS_PER_VCPU']),
        ];
  if (unread.length === 0) return;
  const other = energy.cpuModel === 'linear' ? 'tdp' : 'linear';
  const many = unread.length > 1;
  logger.warn(
    { unread },
    `energy: ${unread.join(' and ')} ${many ? 'are' : 'is'} set but not read: the estimate's CPU model is ${energy.cpuModel} (ENERGY_CPU_MODEL=${other} reads ${many ? 'them' : 'it'})`,
  );
}

/** The exporter source for ENERGY_SOURCE=kepler|scaphandre: its spec, endpoint and timing. */
function makeExporter(
  which: Exporter,
  energy: EnergySettings,
  options: Pick<SelectSourcesOptions, 'readCgroup' | 'clock'>,
): PowerSource {
  const identity = ownContainer({
    containerId: which === 'kepler' ? energy.kepler.containerId : undefined,
    pod: energy.pod,
    readCgroup: options.readCgroup,
  });
  const spec: ExporterSpec =
    which === 'kepler' ? keplerSpec(identity) : scaphandreSpec(ownScaphandreTarget(identity));
  const endpoint = energy[which];
  const timeoutMs = energy.exporter.timeoutMs;
  const metricsUrl = endpoint.metricsUrl;
  const prometheusUrl = endpoint.prometheusUrl ?? '';
  return createExporterSource({
    spec,
    read: metricsUrl
      ? () =>
          fetchExposition(metricsUrl, spec.wanted, { timeoutMs, maxBytes: MAX_EXPOSITION_BYTES })
      : () =>
          queryPrometheus(prometheusUrl, spec.query(), { timeoutMs, maxBytes: MAX_QUERY_BYTES }),
    where: urlForLog(metricsUrl ?? joinedUrl(prometheusUrl, '/api/v1/query')),
    intervalMs: energy.exporter.intervalMs,
    // Three missed reads, and never less than two timeouts: a slow answer is not a stale one.
    staleAfterMs: Math.max(3 * energy.exporter.intervalMs, 2 * timeoutMs),
    clock: options.clock,
  });
}

export interface SelectSourcesOptions {
  config: Pick<Settings, 'energy'>;
  logger: Logger;
  /** process.platform by default; decides whether RAPL (linux) and powermetrics (darwin) are tried. */
  platform?: NodeJS.Platform;
  /** Binaries to run instead of `powermetrics` / `nvidia-smi` found on PATH. */
  binaries?: { powermetrics?: string; nvidiaSmi?: string };
  /** Replace how a source is built (tests). */
  make?: Partial<Record<SourceKey, Maker>>;
  /** Reads /proc/self/cgroup, where Kepler and Scaphandre find this process's container. */
  readCgroup?: () => string;
  /** The meter's monotonic clock, which paces exporter figures (performance.now by default). */
  clock?: () => number;
  /**
   * Whether the probes of nvidia-smi and powermetrics keep the process alive until they settle
   * (default true); `register` passes false (NvidiaSmiOptions.holdProcess).
   */
  holdProcess?: boolean;
  /**
   * How long the probes of nvidia-smi and powermetrics wait for their first output (default 3
   * intervals + 2 s); tests whose fake binary is a Node script, slow to start on a loaded
   * machine, give more. 1 ms to 10 minutes, else a RangeError before anything is probed.
   */
  probeTimeoutMs?: number;
  /**
   * Time to the first try again of an nvidia-smi that read no GPU at start (GPU_RETRY_FIRST_MS):
   * tests give less, so that a GPU read late is read within seconds.
   */
  gpuRetryFirstMs?: number;
  /**
   * The RAPL zones' counters read at the meter's early baseline (EarlyBaseline.raplCounters):
   * the RAPL source chosen now counts from them (RaplOptions.early), one made later does not.
   */
  raplEarly?: ReadonlyMap<string, number>;
}

export interface SelectedSources {
  /** The one source for CPU/package/platform power. */
  host: PowerSource;
  /**
   * Sources that add GPU power: nvidia-smi, when present (one that ran but read no GPU at start
   * is tried again later, and names no device until it reads: readsGpus).
   */
  gpus: PowerSource[];
  /** Why these were chosen, one entry per step (also logged at start-up, joined by `; `). */
  reasons: string[];
}

type Tried =
  | { source: PowerSource; detail: string; reason?: undefined }
  | { source?: undefined; reason: string; fixable?: boolean; refused?: boolean; later?: boolean };

async function tryProbe(make: Maker): Promise<Tried> {
  const source = make();
  try {
    const result = await source.probe();
    if (result.ok) return { source, detail: result.detail };
    await source.close();
    const { reason, fixable, refused, later } = result;
    return { reason, fixable, refused, later };
  } catch (err) {
    await source.close().catch(() => undefined);
    // A spawn the permission model refuses throws at once; Node 20's words name no flag.
    const refused = permissionRefusal(err);
    if (refused) return { reason: refused, refused: true };
    return { reason: messageOf(err) };
  }
}

/**
 * Picks the power sources for ENERGY_SOURCE and probes them. auto: Kepler or Scaphandre when
 * its URL is set (Kepler first), then RAPL on Linux, else powermetrics on macOS, else the
 * estimate; NVIDIA GPUs are added when nvidia-smi answers, or later where it ran but read none.
 * An explicit source that cannot be read is logged with its reason and replaced by the
 * estimate; this never throws for an unreadable source. `nvidia-smi` means: the GPUs are
 * required (a warning if absent), the host source as in auto. `estimate` means: the model only,
 * no hardware probed.
 *
 * Kepler and Scaphandre measure this process's container (or process), not the host: the
 * source chosen as auto would choose without them covers whatever intervals they cannot
 * (handover.ts), including the start when the exporter does not answer yet.
 */
export async function selectSources(options: SelectSourcesOptions): Promise<SelectedSources> {
  const { config, logger } = options;
  // Before any probe: a bad one would otherwise surface only where nvidia-smi is tried.
  checkProbeTimeout(options.probeTimeoutMs);
  const energy = config.energy;
  const platform = options.platform ?? process.platform;
  const nvidiaSmi =
    (holdProcess: boolean | undefined): Maker =>
    () =>
      createNvidiaSmiSource({
        logger,
        intervalMs: energy.sampleIntervalMs,
        binary: options.binaries?.nvidiaSmi,
        holdProcess,
        probeTimeoutMs: options.probeTimeoutMs,
        ...(options.clock ? { clock: options.clock } : {}),
      });
  const make: Record<SourceKey, Maker> = {
    rapl: () => createRaplSource({ root: energy.powercapRoot, logger }),
    powermetrics: () =>
      createPowermetricsSource({
        logger,
        intervalMs: energy.sampleIntervalMs,
        binary: options.binaries?.powermetrics,
        holdProcess: options.holdProcess,
        probeTimeoutMs: options.probeTimeoutMs,
      }),
    'nvidia-smi': nvidiaSmi(options.holdProcess),
    estimate: () => createEstimateSource({ settings: energy }),
    kepler: () => makeExporter('kepler', energy, options),
    scaphandre: () => makeExporter('scaphandre', energy, options),
    ...options.make,
  };
  const exporter =
    energy.source === 'kepler' || energy.source === 'scaphandre'
      ? energy.source
      : energy.source === 'auto'
        ? configuredExporter(energy)
        : undefined;
  warnUnreadUrls(energy, exporter, logger);
  warnUnreadCpuFigures(energy, logger);
  // Probed now only: a RAPL source made later (late-start) counts from its own first reading.
  const raplEarly = options.raplEarly;
  const firstRapl: Maker =
    raplEarly && !options.make?.rapl
      ? () => createRaplSource({ root: energy.powercapRoot, logger, early: raplEarly })
      : make.rapl;
  // Behind an exporter, the host source is what auto would pick.
  const requested = exporter ? 'auto' : energy.source;
  const notes: string[] = [];
  let host: PowerSource | undefined;
  /** RAPL is there but not readable by this process: a fix made while it runs is picked up. */
  let raplLater = false;

  if (requested === 'rapl' || requested === 'powermetrics') {
    const tried = await tryProbe(requested === 'rapl' ? firstRapl : make[requested]);
    if (tried.source) {
      host = tried.source;
      notes.push(`requested by ${energy.sourceOption ?? 'ENERGY_SOURCE'}: ${tried.detail}`);
    } else {
      raplLater = requested === 'rapl' && tried.fixable === true;
      logger.warn(
        { requested, reason: tried.reason },
        `${askedFor(energy, requested)} cannot be read (${tried.reason}); falling back to estimate` +
          (raplLater ? RETRIED : ''),
      );
      notes.push(`${askedFor(energy, requested)} cannot be read: ${tried.reason}; fell back`);
    }
  } else if (requested === 'auto' || requested === 'nvidia-smi') {
    if (platform === 'linux') {
      const tried = await tryProbe(firstRapl);
      if (tried.source) {
        host = tried.source;
        notes.push(`measured: ${tried.detail}`);
      } else {
        // No powercap (a VM) is normal; RAPL this process may not read is a fix to make. On
        // Linux the estimate is what is left (with an exporter, it covers the exporter's gaps).
        if (tried.fixable) {
          raplLater = true;
          logger.warn(
            { source: 'rapl', reason: tried.reason },
            `energy: RAPL is here but cannot be read (${tried.reason}); falling back to estimate${RETRIED}`,
          );
        } else if (tried.refused) {
          // Where RAPL is, the estimate would stand in for it without a word at the default
          // level; where it is not (a VM), granting the read or ENERGY_SOURCE=estimate quiets it.
          logger.warn(
            { source: 'rapl', reason: tried.reason },
            `energy: RAPL not read (${tried.reason}); falling back to estimate`,
          );
        }
        notes.push(tried.reason);
      }
    } else {
      notes.push('rapl: not Linux');
    }
    if (!host && platform === 'darwin') {
      const tried = await tryProbe(make.powermetrics);
      if (tried.source) {
        host = tried.source;
        notes.push(`measured: ${tried.detail}`);
      } else notes.push(tried.reason);
    } else if (!host) {
      notes.push('not macOS');
    }
  } else {
    notes.push(`requested by ${energy.sourceOption ?? 'ENERGY_SOURCE'}`);
  }
  if (!host) {
    host = make.estimate();
    const probe = await host.probe();
    if (probe.ok) notes.push(`model: ${probe.detail}`);
    if (raplLater) host = withLateStart({ make: make.rapl, fallback: host, logger });
  } else {
    // A meter that stops answering mid-run (the powercap tree gone, powermetrics ended) is
    // covered by the labelled estimate, never left at a measured 0 W.
    host = withHandover({ primary: host, fallback: make.estimate(), logger });
  }
  if (exporter && !hasUrl(energy[exporter]) && !options.make?.[exporter]) {
    // Settings built in code (checkSettings does not pair sources with URLs) come without one.
    const reason = `${exporter} needs ${exporter.toUpperCase()}_METRICS_URL or ${exporter.toUpperCase()}_PROMETHEUS_URL`;
    logger.warn(
      { source: exporter, estimated: false, reason },
      `energy: ${reason}; ${host.name} is used`,
    );
    notes.unshift(reason);
  } else if (exporter) {
    const primary = make[exporter]();
    const probe = await primary.probe().catch((err: unknown) => ({
      ok: false as const,
      reason: messageOf(err),
    }));
    if (probe.ok) notes.unshift(`measured: ${probe.detail}`);
    else {
      logger.warn(
        { source: exporter, estimated: false, fallback: host.name, reason: probe.reason },
        `energy: ${exporter} (measured) cannot be used yet (${probe.reason}); ${host.name} covers until it can`,
      );
      notes.unshift(`${exporter}: ${probe.reason}; ${host.name} covers until it can`);
    }
    host = withHandover({ primary, fallback: host, logger, unusable: !probe.ok });
  }

  const gpus: PowerSource[] = [];
  if (requested !== 'estimate') {
    const tried = await tryProbe(make['nvidia-smi']);
    if (tried.source) {
      gpus.push(tried.source);
      notes.push(`GPUs: ${tried.detail}`);
    } else if (tried.later) {
      // No one awaits a try made on a tick, and the meter's timer keeps no process alive: nor
      // may a try's wait for its first line (up to probeTimeoutMs, each time).
      const later = options.make?.['nvidia-smi'] ?? nvidiaSmi(false);
      const firstRetryMs = options.gpuRetryFirstMs ?? GPU_RETRY_FIRST_MS;
      gpus.push(withLateGpu({ name: 'nvidia-smi', make: later, logger, firstRetryMs }));
      const again = `tried again after ${spanText(firstRetryMs)}, then less often`;
      // Where GPUs were asked for, a warning; nvidia-smi installed without a GPU is common.
      logger[requested === 'nvidia-smi' ? 'warn' : 'info'](
        { reason: tried.reason },
        `energy: nvidia-smi reads no GPU yet (${tried.reason}); ${again}`,
      );
      notes.push(`GPUs: ${tried.reason}; ${again}`);
    } else if (requested === 'nvidia-smi') {
      logger.warn(
        { reason: tried.reason },
        `${askedFor(energy, 'nvidia-smi')} cannot be read (${tried.reason}); no GPU energy is counted`,
      );
    } else if (tried.refused) {
      // Not a warning: a host without a GPU would have it for good, or grant child processes,
      // which weakens the model, to quiet it. The default level is warn, though: in the reasons
      // too (monitor's summary, the snapshot), or a GPU's energy went missing unseen.
      const gpusUnread = `nvidia-smi not run (${tried.reason}): no GPU energy is counted, where this host has NVIDIA GPUs`;
      logger.info({ reason: tried.reason }, `energy: ${gpusUnread}`);
      notes.push(`GPUs: ${gpusUnread}`);
    } else {
      // No NVIDIA GPU is the normal case: say it only at debug level.
      logger.debug({ reason: tried.reason }, 'energy: no NVIDIA GPU source');
    }
  }

  const reason = notes.join('; ');
  const reading = gpus.filter(readsGpus);
  const gpuText = reading.length ? ` + ${reading.map((g) => g.name).join(' + ')}` : '';
  logger.info(
    { source: host.name, estimated: host.estimated, gpus: reading.map((g) => g.name), reason },
    `energy source: ${host.name}${gpuText} (${reason})`,
  );
  return { host, gpus, reasons: notes };
}
