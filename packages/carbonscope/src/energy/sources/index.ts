export {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  createEstimateSource,
  type EstimateOptions,
  type EstimateSettings,
  RAM_WATTS_PER_GB,
} from './estimate.js';
export {
  createExporterSource,
  ExporterFault,
  type ExporterFigure,
  type ExporterSource,
  type ExporterSourceOptions,
  type ExporterSpec,
} from './exporter-source.js';
export { parseExposition, parseExpositionLine, type SeriesSample } from './exposition.js';
export { readsGpus, withLateGpu } from './gpu-late-start.js';
export { withHandover } from './handover.js';
export { KEPLER_METRICS, keplerSpec } from './kepler.js';
export { type LineChild, type LineChildOptions, spawnLineChild } from './line-child.js';
export { createNvidiaSmiSource, type NvidiaSmiOptions } from './nvidia-smi.js';
export {
  type ContainerIdentity,
  normalizeContainerId,
  ownContainer,
  parseCgroup,
} from './own-container.js';
export { readSysText, readZoneCounters } from './powercap-zones.js';
export { createPowermetricsSource, type PowermetricsOptions } from './powermetrics.js';
export { checkProbeTimeout } from './probe-timeout.js';
export { queryPrometheus } from './prometheus-query.js';
export { createRaplSource, type RaplDomain, type RaplOptions } from './rapl.js';
export {
  RESTART_DELAYS,
  type RestartBackoff,
  type RestartDelays,
  restartBackoff,
} from './restart-backoff.js';
export { SCAPHANDRE_METRICS, scaphandreSpec } from './scaphandre.js';
export { type SelectedSources, type SelectSourcesOptions, selectSources } from './select.js';
export type {
  Component,
  EnergyReading,
  HostCpuDelta,
  PowerSource,
  ProbeResult,
  SampleTick,
  SourceDevice,
  SourceName,
} from './source.js';
export { clamp01, hostUtilization } from './utilization.js';
