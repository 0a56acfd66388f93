export {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  createEstimateSource,
  type EstimateSettings,
  RAM_WATTS_PER_GB,
} from './estimate.js';
export { createNvidiaSmiSource } from './nvidia-smi.js';
export { createPowermetricsSource } from './powermetrics.js';
export { createRaplSource } from './rapl.js';
export { type SelectedSources, type SelectSourcesOptions, selectSources } from './select.js';
export type {
  Component,
  EnergyReading,
  HostCpuDelta,
  PowerSource,
  ProbeResult,
  SampleTick,
  SourceName,
} from './source.js';
export { clamp01, hostUtilization } from './utilization.js';
