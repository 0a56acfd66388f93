import type { Logger } from '../../log.js';
import type { Settings } from '../../settings.js';
import { createEstimateSource } from './estimate.js';
import { createNvidiaSmiSource } from './nvidia-smi.js';
import { createPowermetricsSource } from './powermetrics.js';
import { createRaplSource } from './rapl.js';
import type { PowerSource } from './source.js';

type Maker = () => PowerSource;

export interface SelectSourcesOptions {
  config: Pick<Settings, 'energy'>;
  logger: Logger;
  /** process.platform by default; decides whether RAPL (linux) and powermetrics (darwin) are tried. */
  platform?: NodeJS.Platform;
  /** Binaries to run instead of `powermetrics` / `nvidia-smi` found on PATH. */
  binaries?: { powermetrics?: string; nvidiaSmi?: string };
  /** Replace how a source is built (tests). */
  make?: Partial<Record<'rapl' | 'powermetrics' | 'nvidia-smi' | 'estimate', Maker>>;
}

export interface SelectedSources {
  /** The one source for CPU/package/platform power. */
  host: PowerSource;
  /** Sources that add GPU power (nvidia-smi, when present). */
  gpus: PowerSource[];
  /** Why these were chosen, one entry per step (also logged at start-up, joined by `; `). */
  reasons: string[];
}

type Tried =
  | { source: PowerSource; detail: string; reason?: undefined }
  | { source?: undefined; reason: string };

async function tryProbe(make: Maker): Promise<Tried> {
  const source = make();
  try {
    const result = await source.probe();
    if (result.ok) return { source, detail: result.detail };
    await source.close();
    return { reason: result.reason };
  } catch (err) {
    await source.close().catch(() => undefined);
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Picks the power sources for ENERGY_SOURCE (auto|rapl|powermetrics|nvidia-smi|estimate) and
 * probes them. auto: RAPL on Linux, else powermetrics on macOS, else the estimate; NVIDIA GPUs
 * are added when nvidia-smi answers. An explicit source that cannot be read is logged with its
 * reason and replaced by the estimate; this never throws for an unreadable source.
 * `nvidia-smi` means: the GPUs are required (a warning if absent), the host source as in auto.
 * `estimate` means: the model only, no hardware probed.
 */
export async function selectSources(options: SelectSourcesOptions): Promise<SelectedSources> {
  const { config, logger } = options;
  const energy = config.energy;
  const platform = options.platform ?? process.platform;
  const make: Record<'rapl' | 'powermetrics' | 'nvidia-smi' | 'estimate', Maker> = {
    rapl: () => createRaplSource({ root: energy.powercapRoot, logger }),
    powermetrics: () =>
      createPowermetricsSource({
        logger,
        intervalMs: energy.sampleIntervalMs,
        binary: options.binaries?.powermetrics,
      }),
    'nvidia-smi': () =>
      createNvidiaSmiSource({
        logger,
        intervalMs: energy.sampleIntervalMs,
        binary: options.binaries?.nvidiaSmi,
      }),
    estimate: () => createEstimateSource({ settings: energy }),
    ...options.make,
  };
  const requested = energy.source;
  const notes: string[] = [];
  let host: PowerSource | undefined;

  if (requested === 'rapl' || requested === 'powermetrics') {
    const tried = await tryProbe(make[requested]);
    if (tried.source) {
      host = tried.source;
      notes.push(`requested by ENERGY_SOURCE: ${tried.detail}`);
    } else {
      logger.warn(
        { requested, reason: tried.reason },
        `ENERGY_SOURCE=${requested} cannot be read (${tried.reason}); falling back to estimate`,
      );
      notes.push(`ENERGY_SOURCE=${requested} cannot be read: ${tried.reason}; fell back`);
    }
  } else if (requested === 'auto' || requested === 'nvidia-smi') {
    if (platform === 'linux') {
      const tried = await tryProbe(make.rapl);
      if (tried.source) {
        host = tried.source;
        notes.push(`measured: ${tried.detail}`);
      } else notes.push(tried.reason);
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
    notes.push('requested by ENERGY_SOURCE');
  }
  if (!host) {
    host = make.estimate();
    const probe = await host.probe();
    if (probe.ok) notes.push(`model: ${probe.detail}`);
  }

  const gpus: PowerSource[] = [];
  if (requested !== 'estimate') {
    const tried = await tryProbe(make['nvidia-smi']);
    if (tried.source) {
      gpus.push(tried.source);
      notes.push(`GPUs: ${tried.detail}`);
    } else if (requested === 'nvidia-smi') {
      logger.warn(
        { reason: tried.reason },
        `ENERGY_SOURCE=nvidia-smi cannot be read (${tried.reason}); no GPU energy is counted`,
      );
    } else {
      // No NVIDIA GPU is the normal case: say it only at debug level.
      logger.debug({ reason: tried.reason }, 'energy: no NVIDIA GPU source');
    }
  }

  const reason = notes.join('; ');
  const gpuText = gpus.length ? ` + ${gpus.map((g) => g.name).join(' + ')}` : '';
  logger.info(
    { source: host.name, estimated: host.estimated, gpus: gpus.map((g) => g.name), reason },
    `energy source: ${host.name}${gpuText} (${reason})`,
  );
  return { host, gpus, reasons: notes };
}
