import { checkedInteger, type Env } from '../settings.js';

/**
 * The shortest OTEL_METRIC_EXPORT_INTERVAL accepted: a push every millisecond or so keeps a core
 * busy (1 ms used 96 % of one) and floods the collector.
 */
export const MIN_EXPORT_INTERVAL_MS = 100;

/** The OTLP exporter's default timeout, its requests' and retries' together. */
const OTLP_TIMEOUT_MS = 10_000;

/**
 * The OTLP metric exporter's timeout, given up no later than the periodic reader's: the reader's
 * timeout goes to the SDK's silent error handler, and the exporter's own (10 s, retries included)
 * would block the exports after it, so a refused push would go untold for as long. Reads
 * OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, then OTEL_EXPORTER_OTLP_TIMEOUT, already checked.
 */
export function otlpExporterTimeout(env: Env, readerTimeoutMs: number): number {
  const own = checkedInteger(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', OTLP_TIMEOUT_MS);
  return Math.min(checkedInteger(env, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', own), readerTimeoutMs);
}
