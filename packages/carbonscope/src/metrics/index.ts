export { createInstrument } from './create.js';
export {
  prometheusBaseName,
  prometheusLabelName,
  sanitizedPrometheusName,
} from './prometheus-name.js';
export {
  type Convention,
  type InstrumentKind,
  logBuckets,
  type MetricSpec,
  prometheusName,
  prometheusType,
} from './spec.js';
export {
  ESTIMATED,
  HOST_IDENTITY,
  LATENCY_BUCKETS_SECONDS,
  METRICS,
  MOCK_LLM,
  OPERATION_EMISSIONS_BUCKETS_GRAMS,
  OPERATION_ENERGY_BUCKETS_JOULES,
  PHASE,
  PHASES,
  TOKEN_BUCKETS,
} from './table.js';
