// bindMetrics (the instruments a Carbonscope feeds on any Meter) and what every provider that
// carbonscope feeds shares: the OTEL_* lists and resource, the masking diag logger, the push
// failures' report, LocalHistograms. Apart from the rest of otel/: the CLI's own provider
// (cli/session.ts) loads these, not register's spans, exposition and provider hand-over.

export { attributesKey } from './attributes-key.js';
export {
  type BindMetricsOptions,
  bindMetrics,
  histogramOf,
  type Recorder,
  type SettledFigures,
} from './bind-metrics.js';
export { CARRIED_POINTS_MAX, refusedAsMalformed } from './carried-deltas.js';
export { checkSwitch } from './config-checks.js';
export {
  currentGaugeTemporality,
  type TemporalitySdk,
  withCurrentGauges,
} from './current-gauges.js';
export { alignedDeltaStarts } from './delta-starts.js';
export {
  diagLevelOf,
  installMaskingDiag,
  type MaskingDiagOptions,
  maskingDiagLogger,
} from './diag.js';
export { countsOf, droppedText, type ExportCounts, SeenTemporality } from './dropped-metrics.js';
export { checkOtelLists, checkOtelSwitches, malformedOtelVariables } from './env-lists.js';
export { apiGlobals, onGlobalMeterProviderSet } from './global-registration.js';
export { LocalHistograms, type TemporalitySource } from './local-histograms.js';
export {
  carryingFailedPushes,
  type PushNote,
  type PushNotes,
  type ReportingExporter,
  type ReportingOptions,
  reportingFailures,
  reportingPushFailures,
} from './push-failures.js';
export type { LostHistogram, PushedBefore, PushedHistogram } from './pushed-before.js';
export { sdkResource } from './sdk-resource.js';
