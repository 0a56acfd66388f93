import type { Env } from '../../settings.js';
import { type OtlpSignal, otlpSignalEndpoint, otlpSignalVariable } from './export-deadline.js';

const instead = (signal: OtlpSignal) =>
  `set ${otlpSignalVariable(signal)} to the full URL instead (the exporter takes it as given)`;

/**
 * The line for an OTEL_EXPORTER_OTLP_ENDPOINT whose `/v1/<signal>` (metrics by default, traces)
 * the exporter appends after a query or a fragment (it appends to the text as written): every
 * push then goes to the path before it, a query's last value gains `/v1/<signal>` (a token no
 * longer matches), and the failed push's line shows the endpoint as set. Neither the query nor
 * the path is quoted: either may hold a token. None where the signal's own endpoint
 * (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, ..._TRACES_ENDPOINT), used as given, is set.
 */
export function appendedPathProblem(env: Env, signal: OtlpSignal = 'metrics'): string | undefined {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (env[otlpSignalVariable(signal)]?.trim() || !base || !URL.canParse(base)) {
    return undefined;
  }
  const path = `/v1/${signal}`;
  // A fragment comes last, so the appended path is in it wherever there is one.
  const after = base.includes('#') ? 'fragment' : 'query';
  if (!new URL(otlpSignalEndpoint(env, signal)).pathname.endsWith(path)) {
    return `OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/${signal} after its ${after}, so ${signal} are pushed to the path before it, not to …${path}; ${instead(signal)}`;
  }
  // The path already ends in /v1/<signal> (`…/v1/metrics?token=…`): the pushes reach it, with
  // the query's last value ending in it. A fragment, not sent, takes it harmlessly.
  if (after === 'fragment' || !base.includes('?')) return undefined;
  return `OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/${signal} after its query, so its last value ends in ${path} (a collector's token no longer matches); ${instead(signal)}`;
}
