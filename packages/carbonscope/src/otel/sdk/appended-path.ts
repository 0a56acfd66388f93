import type { Env } from '../../settings.js';
import { otlpMetricsEndpoint } from './export-deadline.js';

const INSTEAD =
  'set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to the full URL instead (the exporter takes it as given)';

/**
 * The line for an OTEL_EXPORTER_OTLP_ENDPOINT whose `/v1/metrics` the exporter appends after a
 * query or a fragment (it appends to the text as written): every push then goes to the path
 * before it, a query's last value gains `/v1/metrics` (a token no longer matches), and the
 * failed push's line shows the endpoint as set. Neither the query nor the path is quoted: either
 * may hold a token. None where OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, used as given, is set.
 */
export function appendedPathProblem(env: Env): string | undefined {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim() || !base || !URL.canParse(base)) {
    return undefined;
  }
  // A fragment comes last, so the appended path is in it wherever there is one.
  const after = base.includes('#') ? 'fragment' : 'query';
  if (!new URL(otlpMetricsEndpoint(env)).pathname.endsWith('/v1/metrics')) {
    return `OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/metrics after its ${after}, so metrics are pushed to the path before it, not to …/v1/metrics; ${INSTEAD}`;
  }
  // The path already ends in /v1/metrics (`…/v1/metrics?token=…`): the pushes reach it, with the
  // query's last value ending in /v1/metrics. A fragment, not sent, takes it harmlessly.
  if (after === 'fragment' || !base.includes('?')) return undefined;
  return `OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/metrics after its query, so its last value ends in /v1/metrics (a collector's token no longer matches); ${INSTEAD}`;
}
