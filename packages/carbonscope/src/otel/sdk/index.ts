// The optional OTel SDK packages, imported only where installed, and what a push through them
// needs: the OTLP exporters' endpoint, timeouts, TLS files and agent, and what their failures
// mean. Apart from the rest of otel/: the CLI's failure messages read these alone, and the rest
// would load the meter, the grid and the HTTP tracking with them.

export { appendedPathProblem } from './appended-path.js';
export {
  type AgentFactory,
  EXPORT_TIMED_OUT,
  type OtlpSignal,
  otlpMetricsEndpoint,
  stopWaiting,
  waitingPassedOn,
} from './export-deadline.js';
export {
  exportTimeoutOverInterval,
  MIN_EXPORT_INTERVAL_MS,
  OTLP_TIMEOUTS,
  otlpExporterTimeout,
  type PeriodicTimes,
  periodicTimes,
  timeoutOverIntervalOf,
  timeoutSetting,
} from './export-times.js';
export { lastPushAgents } from './last-push-agent.js';
export {
  EXPORT_FAILED,
  type ExportResult,
  exporterPackages,
  failureOf,
  gated,
  importAll,
  importSdk,
  MissingSdkError,
  otlpMetricExporter,
  PROMETHEUS,
  type PushMetricExporter,
  type ResourceMetrics,
  SdkTooOldError,
  sdkResolves,
  withResults,
} from './optional-sdk.js';
export { checkOtlpTlsFiles, otlpTlsFileProblems, otlpTlsVariables } from './otlp-tls-files.js';
export { type PartialSuccess, partialSuccessOf } from './partial-success.js';
export { shownReason } from './refusal-reason.js';
export { type SdkIntegerOptions, sdkIntegerSetting, sdkValueAsRead } from './sdk-integer.js';
export type { TlsVariables } from './tls-failure.js';
