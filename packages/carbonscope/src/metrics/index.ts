export { createInstrument } from './create.js';
export {
  type InstrumentKind,
  logBuckets,
  type MetricSpec,
  prometheusName,
  prometheusType,
} from './spec.js';
export {
  LATENCY_BUCKETS_SECONDS,
  METRICS,
  OPERATION_EMISSIONS_BUCKETS_GRAMS,
  OPERATION_ENERGY_BUCKETS_JOULES,
} from './table.js';
