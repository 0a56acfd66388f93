import { METRICS, type MetricSpec, prometheusName } from 'carbonscope';
import { APP_METRICS } from '../../src/metrics.js';

type Names<T> = { readonly [K in keyof T]: string };

function namesOf<T extends Record<string, MetricSpec>>(table: T): Names<T> {
  const out: Record<string, string> = {};
  for (const [key, spec] of Object.entries(table)) out[key] = prometheusName(spec);
  return out as Names<T>;
}

/**
 * The Prometheus name of every metric of the table (the same on the app's /metrics and behind
 * the OTel Collector), so a rename in the table moves the dashboards with it.
 */
export const PROM = { ...namesOf(METRICS), ...namesOf(APP_METRICS) };
