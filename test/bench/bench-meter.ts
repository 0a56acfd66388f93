/**
 * The meters meter.bench.ts measures, apart so that a test can tell what they read.
 */
import type { Meter } from '@opentelemetry/api';
import type { GridIntensity, PowerSource } from 'carbonscope';
import { bindMetrics, Carbonscope, createEstimateSource, type Timer } from 'carbonscope';
import { pino } from 'pino';
import { intensityReading } from '#library-tests/unit/energy/scripted.js';
import { loadConfig } from '../../src/config.js';

export const logger = pino({ level: 'silent' });
export const config = loadConfig({});
const reading = intensityReading('DE', 400);
const grid: GridIntensity = {
  defaultZone: 'DE',
  current: async () => reading,
  peek: () => reading,
  history: async () => ({ zone: 'DE', source: 'fixed', unit: 'gCO2e/kWh', history: [] }),
};

/** The bench samples by hand: a timer that never fires. */
const idle: Timer = { once: () => ({ cancel() {} }), every: () => ({ cancel() {} }) };

/**
 * A meter for the bench. `clock`: a scripted one (no loop idle time, no CPU clocks: time stands
 * for CPU); without, the clocks a user's meter reads (the loop's idle time, process.cpuUsage()
 * and, on Node 24, the main thread's CPU clock), whose cost is the figure wanted.
 */
export async function meterWith(
  meter: Meter,
  host: PowerSource,
  clock?: () => number,
  settings = config,
): Promise<Carbonscope> {
  const cs = await Carbonscope.create({
    settings,
    logger,
    grid,
    sources: { host, gpus: [] },
    ...(clock ? { clock } : {}),
    timer: idle,
  });
  bindMetrics(meter, cs);
  return cs;
}

/**
 * The meter of the attribution cost's `mode`, with the meter's own clocks: a scripted one would
 * leave `exact` timing callbacks by the wall clock, where a user's reads process.cpuUsage()
 * (Node 20) or the main thread's CPU clock (Node 24).
 */
export function attributionMeter(mode: 'wall' | 'exact', meter: Meter): Promise<Carbonscope> {
  const settings = loadConfig({ ENERGY_OPERATION_ATTRIBUTION: mode });
  return meterWith(meter, createEstimateSource({ settings: config.energy }), undefined, settings);
}
