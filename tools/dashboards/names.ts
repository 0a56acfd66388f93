import { HOST_IDENTITY, METRICS, type MetricSpec, prometheusName } from 'carbonscope';
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

const ENERGY = PROM.hostEnergy;

// The service warns at start of a push interval over it: one number for both.
export { RUNNING_APPS_MAX_PUSH_SECONDS } from '../../src/config.js';

/**
 * The running-apps test, as prometheus/rules.yml records it: one series per app that runs now,
 * its host energy counter moved within about 2 min, as it does while an app runs, with requests
 * or none. Behind the Collector a stopped app's last values are exported on, frozen, for
 * metric_expiration (5 min): a sum of gauges over apps would count it beside the app that
 * replaced it. changes() over 60 s alone sees a change in the last 45 s only: too short behind
 * the Collector, where the SDK pushes every 60 s by default and a push that the Collector's
 * batching puts past a scrape is seen 75 s after the one before. So the counter is also compared
 * with its first value of the minute before (offset, not a subquery, whose steps follow
 * Prometheus's evaluation interval); a stopped app drops out within 2 min. An app is its
 * instance (a direct scrape) or its service_instance_id (behind the Collector); job and
 * service_name are kept for the alerts, which tell services apart by them.
 */
export const RUNNING_APPS_EXPR = `group by (job, service_name, instance, service_instance_id) (changes(${ENERGY}[1m]) > 0 or ${ENERGY} != min_over_time(${ENERGY}[1m] offset 1m))`;

/**
 * The recording rule of RUNNING_APPS_EXPR: a panel reads it, evaluated once for every panel and
 * alert, rather than the test itself (twice in a panel summing each host once). Its recorded
 * series end at once (a stale marker) when an app stops moving, so a step of any width reads
 * whether the app ran then.
 */
export const RUNNING_APPS = 'instance_service_instance_id:hw_host_energy_joules_total:moved_2m';

/** `gauge`'s series of the apps that run now (RUNNING_APPS). */
export function ofRunningApps(gauge: string): string {
  return `(${gauge} and on (instance, service_instance_id) ${RUNNING_APPS})`;
}

/**
 * `numerator / denominator`, with no sample where the denominator is 0: a rate over a window
 * in which nothing was counted (a route not asked, an idle or stopped app), where the quotient
 * is 0/0, NaN, which Grafana shows as "NaN" in a stat and in a legend's mean.
 */
export function perRate(numerator: string, denominator: string): string {
  return `${numerator} / (${denominator} > 0)`;
}

/**
 * `histogram_quantile(q, buckets)` with no sample where every bucket's rate is 0 (nothing
 * observed in the window), where it is NaN. A quantile of durations is never below 0, so
 * `>= 0` drops the NaN and nothing else.
 */
export function quantileOf(q: number, buckets: string): string {
  return `histogram_quantile(${q}, ${buckets}) >= 0`;
}

/** The label naming the host a host-level series measures (the library's carbonscope.host). */
export const HOST_LABEL = HOST_IDENTITY.replaceAll('.', '_');

/**
 * `sum by (by)` of `metric`'s series through `of`, each host once: every replica reports its whole
 * host, so of the series of one host_label value one is kept (max); a series without it (a
 * process's share, or an app where nothing names the host) is its own host. `matchers` narrows
 * the series read (`carbonscope_phase="usage"`).
 */
export function sumOfHosts(
  by: string,
  metric: string,
  of: (selector: string) => string,
  matchers = '',
): string {
  const selector = (host: string) => `${metric}{${matchers ? `${matchers}, ` : ''}${host}}`;
  const keep = by ? `${by}, ${HOST_LABEL}` : HOST_LABEL;
  const sum = by ? `sum by (${by})` : 'sum';
  return `${sum} (max by (${keep}) (${of(selector(`${HOST_LABEL}!=""`))}) or ${of(selector(`${HOST_LABEL}=""`))})`;
}
