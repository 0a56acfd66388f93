import {
  createEnergyMeter,
  createEstimateSource,
  type EnergyMeter,
  IntensityService,
} from 'carbonscope';
import type { TestMetrics } from '#library-tests/helpers/metrics.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { captureLogger } from './app.js';

/**
 * The real energy meter on the estimate source, with a fixed grid intensity so no lookup is
 * needed, sampling fast; started (its first sample taken) before it is returned.
 */
export async function startEstimatedMeter(
  metrics: TestMetrics,
  env: Record<string, string> = {},
  logger: Logger = captureLogger('warn').logger,
): Promise<EnergyMeter> {
  const config = loadConfig({ ENERGY_SAMPLE_INTERVAL_MS: '50', CARBON_INTENSITY: '300', ...env });
  const grid = new IntensityService({
    defaultZone: config.grid.zone,
    fixedIntensity: config.grid.fixedIntensity,
    cacheTtlMs: config.grid.cacheTtlMs,
    now: Date.now,
    logger,
  });
  const meter = createEnergyMeter({
    config,
    logger,
    meter: metrics.meter,
    grid,
    sources: { host: createEstimateSource({ settings: config.energy }), gpus: [] },
  });
  await meter.start();
  await meter.firstSample();
  return meter;
}
