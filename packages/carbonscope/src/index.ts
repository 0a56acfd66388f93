// carbonscope: the energy use and carbon emissions of Node code, per request, as OpenTelemetry
// metrics. Three ways in: `node --import carbonscope/register` (no code), the
// CarbonscopeInstrumentation for an SDK you configure, and the small API below for scripts.

// First: on a Node carbonscope cannot run on, the version needed, before modules fail deep inside.
import './refuse-unsupported-node.js';
import { watchEarlyRequests } from './http/index.js';

// As the application imports carbonscope, before it can start it: a request its server answers
// before tracking begins is told of once, when it does (the first request's one call, then none).
watchEarlyRequests();

export {
  EmissionsTracker,
  measure,
  requestFootprint,
  type StartOptions,
  snapshot,
  start,
  stop,
  track,
} from './api.js';
export { joinedUrl, splitBaseUrl } from './base-url.js';
export { DeadlineError, settlesWithin, withDeadline } from './deadline.js';
export type {
  ActiveOperation,
  AttributionMode,
  Clock,
  Component,
  DroppedListener,
  DroppedOperation,
  EarlyAnswer,
  EarlyAnswerListener,
  EmbodiedProfile,
  EmbodiedProfileFigures,
  EmbodiedSettings,
  EmissionsFigure,
  EndedRequest,
  EndedRequestListener,
  EnergyMeterOptions,
  EnergyReading,
  EnergySample,
  EnergySnapshot,
  EstimateOptions,
  EstimateSettings,
  GpuShareReader,
  HostCpuDelta,
  HostCpuReader,
  HostCpuStandIns,
  HttpRequestFacts,
  Measured,
  MeasureOptions,
  MeterSources,
  NvidiaSmiOptions,
  OperationAttributes,
  OperationAttribution,
  OperationContext,
  OperationFootprint,
  OperationKind,
  OperationListener,
  OperationScore,
  OperationTracker,
  PowerFigure,
  PowermetricsOptions,
  PowerSource,
  ProbeResult,
  ProcessCpuReader,
  RaplDomain,
  RaplOptions,
  SampleListener,
  SampleTick,
  SciParts,
  SciScore,
  Scope,
  ScopeTotals,
  SelectedSources,
  SelectSourcesOptions,
  SourceDevice,
  SourceName,
  Timer,
  TimerHandle,
  TrackerOptions,
} from './energy/index.js';
export {
  createEstimateSource,
  createNvidiaSmiSource,
  createPowermetricsSource,
  createRaplSource,
  DEFAULT_CALIBRATION_INTERVAL_MS,
  EMBODIED_PROFILE_FIGURES,
  EMBODIED_PROFILES,
  EnergyMeter,
  EnergyTracker,
  embodiedGramsPerSecond,
  gramsPerJoule,
  JOULES_PER_KWH,
  SECONDS_PER_YEAR,
  sciOf,
  selectSources,
  unrefTimer,
} from './energy/index.js';
export { englishOrder } from './english-order.js';
export { type AnnualAverage, annualAverage } from './grid/annual-averages.js';
export {
  type HeldZone,
  InvalidZoneError,
  LookupsLimitedError,
  UnknownZoneError,
  UpstreamError,
  type UpstreamErrorKind,
} from './grid/errors.js';
export {
  createGridIntensity,
  electricityMapsZones,
  type GridIntensity,
  type GridIntensityOptions,
  type GridService,
  type IntensityHistory,
  type IntensityReading,
  IntensityService,
  type IntensityServiceOptions,
  type IntensitySource,
  registerGridMetrics,
  zoneKeyCase,
} from './grid/index.js';
export {
  type AttributableRequest,
  httpMethodLabel,
  MAX_ATTRIBUTE_LENGTH,
  MAX_ATTRIBUTE_SETS,
  REQUEST_OPERATION,
  type RequestTracking,
  type RequestTrackingOptions,
  type RoutableRequest,
  routeOf,
  setAttributes,
  setRoute,
  type TrackableServer,
  UNMATCHED_ROUTE,
} from './http/index.js';
export {
  AttributeCache,
  BoundedLabelSet,
  type BoundedLabelSetOptions,
  DEFAULT_MAX_OPERATION_NAMES,
  MAX_OPERATION_NAMES_LIMIT,
  MAX_OPERATIONS,
  OVERFLOW_LABEL,
  type RefusalReason,
} from './labels/index.js';
export * from './llm/catalog.js';
export * from './llm/data-file.js';
export {
  AmbiguousModelError,
  LlmError,
  ModelDataError,
  UnknownModelError,
  UnknownZoneError as UnknownMixZoneError,
} from './llm/errors.js';
export * from './llm/format.js';
export * from './llm/impacts.js';
export * from './llm/llm-impacts.js';
export * from './llm/status.js';
export {
  type LogFn,
  type Logger,
  type LogLevel,
  longestFirst,
  redactionList,
  redactSecrets,
  type StderrLoggerOptions,
  stderrLogger,
} from './log.js';
export {
  type Convention,
  createInstrument,
  ESTIMATED,
  HOST_IDENTITY,
  type InstrumentKind,
  LATENCY_BUCKETS_SECONDS,
  logBuckets,
  METRICS,
  type MetricSpec,
  MOCK_LLM,
  prometheusBaseName,
  prometheusName,
  prometheusType,
  TOKEN_BUCKETS,
} from './metrics/index.js';
// For the service's misspelt variables: its own names added to the library's.
export { LIBRARY_VARIABLES, misspeltVariablesWarning } from './misspelt-variables.js';
export { type Attached, attachToOtel, SCOPE_NAME } from './otel/attach.js';
export {
  type BindMetricsOptions,
  bindMetrics,
  histogramOf,
  type Recorder,
} from './otel/bind-metrics.js';
export {
  currentGaugeTemporality,
  type TemporalitySdk,
  withCurrentGauges,
} from './otel/current-gauges.js';
export {
  diagLevelOf,
  installMaskingDiag,
  type MaskingDiagOptions,
  maskingDiagLogger,
} from './otel/diag.js';
export { checkOtelLists, checkOtelSwitches, malformedOtelVariables } from './otel/env-lists.js';
// For the service's spans: their last export takes a refused connection as final too.
export type { AgentFactory } from './otel/export-deadline.js';
export {
  MIN_EXPORT_INTERVAL_MS,
  otlpExporterTimeout,
  type PeriodicTimes,
  periodicTimes,
} from './otel/export-times.js';
export { histogramAggregationNote } from './otel/histogram-aggregation.js';
export {
  CarbonscopeInstrumentation,
  type CarbonscopeInstrumentationConfig,
} from './otel/instrumentation.js';
// For the service's OTLP reader: its push at shutdown bounded as register's is.
export { LAST_PUSH_DEADLINE_MS, type LastPush, otlpLastPush } from './otel/last-push.js';
export { lastPushAgents } from './otel/last-push-agent.js';
export { LocalHistograms, type TemporalitySource } from './otel/local-histograms.js';
export { MissingSdkError, otlpMetricExporter } from './otel/optional-sdk.js';
export { checkOtlpTlsFiles } from './otel/otlp-tls-files.js';
export { withPrometheusNames } from './otel/prometheus-names.js';
export { PrometheusText, type PrometheusTextOptions } from './otel/prometheus-text.js';
export { reportingPushFailures } from './otel/push-failures.js';
export { SCOPE } from './otel/scope.js';
export { annotateSpan, captureSpan, releaseHeldSpans, SPAN_ATTRIBUTES } from './otel/spans.js';
// For a program's one-line errors that quote a user's text (the service's start-up failures).
export { printable } from './printable.js';
export { parseRetryAfter } from './retry-after.js';
export {
  Carbonscope,
  type CarbonscopeOptions,
  type EarlyAnswerOptions,
} from './runtime/carbonscope.js';
export type { DropCount, DropReason } from './runtime/drop-counts.js';
// For the service's LLM key, masked from the length the library's keys are.
export { maskableSecret, shortKeyWarning } from './secret-length.js';
export {
  checkSettings,
  ENERGY_SOURCES,
  type EnergySettings,
  type Env,
  type ExporterEndpoint,
  envSecretsOf,
  fetchableUrlSetting,
  type GridSettings,
  integerSetting,
  loadSettings,
  numberSetting,
  OPERATION_ATTRIBUTION_MODES,
  otlpSecretsOf,
  parseEnv,
  type Settings,
  SettingsError,
  secretsOf,
  urlSetting,
  ZONE_PATTERN,
} from './settings.js';
export { credentialsOf, urlSecrets, withoutCredentials } from './url-credentials.js';
export { VERSION } from './version.js';
