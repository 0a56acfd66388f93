import type { Meter } from '@opentelemetry/api';
import type { GridIntensity } from '../grid/types.js';
import type { Logger } from '../log.js';
import type { Settings } from '../settings.js';
import { createHostCpuReader } from './host-cpu.js';
import { EnergyMeter, type MeterSources } from './meter.js';
import {
  type Clock,
  type HostCpuReader,
  monotonicClock,
  ownProcessCpu,
  type ProcessCpuReader,
} from './probes.js';

export type { AttributionMode } from './attribution.js';
export { JOULES_PER_KWH } from './emissions.js';
export type {
  EnergyFigure,
  EnergyMeter,
  EnergyService,
  EnergySnapshot,
  MeterSources,
  SampleListener,
} from './meter.js';
export type { ProcessCpuReader } from './probes.js';
export type { SampleSummary } from './sampler.js';
export { trackWith } from './tracker.js';
export type { ActiveOperation, OperationFootprint, OperationTracker } from './types.js';

export interface CreateEnergyMeterOptions {
  config: Settings;
  logger: Logger;
  meter: Meter;
  grid: GridIntensity;
  /** The chosen sources (see sources/select.ts) and why. */
  sources: MeterSources;
  /** Monotonic ms; default performance.now(). */
  clock?: Clock;
  /** Host CPU time per tick; default /proc/stat (os.cpus() where it is missing). */
  hostCpu?: HostCpuReader;
  /** Cumulative CPU seconds of what is measured; default this process (process.cpuUsage()). */
  processCpu?: ProcessCpuReader;
  now?: () => Date;
}

/**
 * The energy meter of a process. `start()` resolves once the baseline is set and the timer runs,
 * `firstSample()` after the first sample (readiness),
 * `stop()` takes a last sample and closes the sources, `snapshot()` feeds /energy and the
 * dashboard, `tracker`/`track()` share the process's energy among operations.
 */
export function createEnergyMeter(options: CreateEnergyMeterOptions): EnergyMeter {
  return new EnergyMeter({
    ...options,
    clock: options.clock ?? monotonicClock,
    hostCpu: options.hostCpu ?? createHostCpuReader(),
    processCpu: options.processCpu ?? ownProcessCpu,
  });
}
