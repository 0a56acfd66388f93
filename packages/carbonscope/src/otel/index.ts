export { type Attached, attachToOtel, pushesAnywhere, SCOPE_NAME } from './attach.js';
export { announcePrimary } from './cluster-exposition.js';
export {
  atDefaultStop,
  defaultUnderWay,
  ranBeforeStart,
  startDefault,
  startedDefault,
  startingTracker,
  stopDefault,
  warnIgnoredOptions,
} from './default.js';
export { histogramAggregationNote } from './histogram-aggregation.js';
export { LAST_PUSH_DEADLINE_MS, type LastPush, otlpLastPush } from './last-push.js';
export {
  globalProviderShutDown,
  hasGlobalMeterProvider,
  metersForNothing,
  metricsExporters,
  metricsOff,
  ownProviderPushes,
  ownProviderServesPrometheus,
} from './own-provider.js';
export { PrometheusText, type PrometheusTextOptions } from './prometheus-text.js';
export { SCOPE } from './scope.js';
export { bindMetricsOnce } from './shared-binding.js';
export {
  annotateSpan,
  captureSpan,
  contextPropagates,
  releaseHeldSpans,
  SPAN_ATTRIBUTES,
} from './spans.js';
export { absoluteForm } from './target-path.js';
