import { bindMetrics, Carbonscope, createEstimateSource, IntensityService } from 'carbonscope';
import type { TestMetrics } from '#library-tests/helpers/metrics.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { captureLogger } from './log.js';

/**
 * The real carbonscope on the estimate source, with a fixed grid intensity so no lookup is
 * needed, sampling fast, its instruments on `metrics`; started (its first sample taken) before
 * it is returned. Call stop() when done.
 */
export async function startEstimatedMeter(
  metrics: TestMetrics,
  env: Record<string, string> = {},
  logger: Logger = captureLogger('warn').logger,
): Promise<Carbonscope> {
  const config = loadConfig({ ENERGY_SAMPLE_INTERVAL_MS: '50', CARBON_INTENSITY: '300', ...env });
  const grid = new IntensityService({
    defaultZone: config.grid.zone,
    fixedIntensity: config.grid.fixedIntensity,
    cacheTtlMs: config.grid.cacheTtlMs,
    now: Date.now,
    logger,
  });
  const cs = await Carbonscope.create({
    settings: config,
    logger,
    grid,
    sources: { host: createEstimateSource({ settings: config.energy }), gpus: [] },
  });
  bindMetrics(metrics.meter, cs, { http: true });
  await cs.start();
  await cs.firstSample();
  return cs;
}

/**
 * Resolves after carbonscope's next sample, by which the operations ended before it are
 * settled and reported (its own listener, registered first, has run).
 */
export function nextSample(cs: Carbonscope): Promise<void> {
  return new Promise((resolve) => {
    const off = cs.onSample(() => {
      off();
      resolve();
    });
  });
}
