import { type Env, quotedSetting } from '../settings.js';

const VARIABLE = 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION';
const EXPLICIT = 'explicit_bucket_histogram';
const EXPONENTIAL = 'base2_exponential_bucket_histogram';

/**
 * What register's own OTLP push says of the OTel spec's default histogram aggregation, or
 * nothing. carbonscope's histograms are recorded in place with buckets of their own (set for
 * joules, grams and seconds, as the dashboards and rules query them), and OTel JS's OTLP
 * exporter does not read the variable either (only startNodeSDK's declarative configuration
 * does): a user who asked for exponential histograms got explicit ones without a word. Read in
 * any case, as the spec reads an enum (and carbonscope the temporality preference).
 */
export function histogramAggregationNote(env: Env): string | undefined {
  const value = env[VARIABLE]?.trim();
  const known = value?.toLowerCase();
  if (!value || known === EXPLICIT) return undefined;
  if (known === EXPONENTIAL) {
    return `${VARIABLE}=${EXPONENTIAL}: carbonscope's histograms are pushed with explicit buckets, its own (see "Exponential and native histograms" in carbonscope's README)`;
  }
  return `${VARIABLE}: unknown value ${quotedSetting(value)} ignored (expected ${EXPLICIT} or ${EXPONENTIAL})`;
}
