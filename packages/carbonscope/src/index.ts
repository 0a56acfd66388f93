// The public library API: the meter, the operation tracker, grid intensity and LLM impacts, for
// any Node service.
export type {
  ActiveOperation,
  AttributionMode,
  CreateEnergyMeterOptions,
  EnergyFigure,
  EnergyMeter,
  EnergyService,
  EnergySnapshot,
  MeterSources,
  OperationFootprint,
  OperationTracker,
  ProcessCpuReader,
  SampleListener,
  SampleSummary,
} from './energy/index.js';
export { createEnergyMeter, JOULES_PER_KWH, trackWith } from './energy/index.js';
export { createEstimateSource } from './energy/sources/estimate.js';
export { createRaplSource } from './energy/sources/rapl.js';
export { selectSources } from './energy/sources/select.js';
export type {
  EnergyReading,
  HostCpuDelta,
  PowerSource,
  ProbeResult,
  SampleTick,
  SourceName,
} from './energy/sources/source.js';
export { EnergyTracker } from './energy/tracker.js';
export { annualAverage } from './grid/annual-averages.js';
export { InvalidZoneError, UnknownZoneError, UpstreamError } from './grid/errors.js';
export type {
  GridIntensity,
  IntensityHistory,
  IntensityReading,
  IntensitySource,
} from './grid/index.js';
export { createGridIntensity, IntensityService } from './grid/index.js';
export * from './llm/catalog.js';
export {
  LlmError,
  ModelDataError,
  UnknownModelError,
  UnknownZoneError as UnknownMixZoneError,
} from './llm/errors.js';
export * from './llm/impacts.js';
export type { LogFn, Logger, LogLevel } from './log.js';
export { stderrLogger } from './log.js';
export type { EnergySettings, Env, GridSettings, Settings } from './settings.js';
export {
  ENERGY_SOURCES,
  loadSettings,
  parseEnv,
  SettingsError,
  secretsOf,
  ZONE_PATTERN,
} from './settings.js';
