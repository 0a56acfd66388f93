// The public library API: the meter, the operation tracker and the grid intensity service can be
// used in any Node service, with or without the carbonscope app around them.
export type { Config, Env } from './config.js';
export { ConfigError, loadConfig } from './config.js';
export type {
  ActiveOperation,
  CreateEnergyMeterOptions,
  EnergyMeter,
  EnergyService,
  EnergySnapshot,
  MeterSources,
  OperationFootprint,
  OperationTracker,
  SampleSummary,
} from './energy/index.js';
export { createEnergyMeter, trackRequests } from './energy/index.js';
export { selectSources } from './energy/sources/select.js';
export type { PowerSource, SampleTick } from './energy/sources/source.js';
export type { GridIntensity, IntensityHistory, IntensityReading } from './grid/index.js';
export { createGridIntensity } from './grid/index.js';
export type {
  Catalog,
  Impacts,
  ImpactsOutput,
  ImpactsRequest,
  StatusMessage,
} from './llm/index.js';
export { computeImpacts, llmImpacts, loadCatalog } from './llm/index.js';
export { createLogger } from './logger.js';
