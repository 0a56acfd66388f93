import type { DashboardSpec } from './grafana.js';
import { PROM, perRate, quantileOf, RUNNING_APPS } from './names.js';

/** `$route` is the dashboard variable; "All" is the regex `(?s:.*)` (grafana.ts). */
const BY_ROUTE = 'http_route=~"$route"';
const RI = '$__rate_interval';
/** http.server.request.duration: its `_count` counts requests, by route, method and status. */
const DURATION = PROM.httpDuration;
const REQUESTS = `${DURATION}_count`;

/**
 * The route shown for answers the server gave before the app saw a request (Node's 400, 408 and
 * 431, a refused CONNECT): they are counted with no http_route, which a legend shows as nothing.
 */
export const BEFORE_THE_APP = '(before the app)';

/** `expr`'s series, those with no (an empty) http_route named BEFORE_THE_APP. */
function namingBeforeTheApp(expr: string): string {
  return `label_replace(${expr}, "http_route", "${BEFORE_THE_APP}", "http_route", "")`;
}

function quantile(q: number, selector = BY_ROUTE): string {
  return namingBeforeTheApp(
    quantileOf(q, `sum by (http_route, le) (rate(${DURATION}_bucket{${selector}}[${RI}]))`),
  );
}

/** "Service": the request view every HTTP service needs — rate, errors, latency per route. */
export const serviceDashboard: DashboardSpec = {
  uid: 'carbonscope-service',
  title: 'carbonscope · Service',
  description: `Requests, errors and latency per route template, from the semconv ${DURATION} histogram.`,
  tags: ['carbonscope'],
  variables: [{ name: 'route', label: 'Route', query: `label_values(${REQUESTS}, http_route)` }],
  panels: [
    {
      type: 'stat',
      title: 'Request rate',
      description: 'Requests per second over the last minute, every route (recording rule).',
      unit: 'reqps',
      width: 6,
      decimals: 2,
      queries: [{ expr: `sum(http_route:${REQUESTS}:rate1m)`, legend: 'requests/s' }],
    },
    {
      type: 'stat',
      title: 'Server errors',
      description:
        'Share of responses with a 5xx status (error.type set). 0 when there were none; no value while no request came.',
      unit: 'percentunit',
      width: 6,
      decimals: 2,
      queries: [
        {
          expr: perRate(
            `(sum(rate(${REQUESTS}{http_response_status_code=~"5.."}[${RI}])) or vector(0))`,
            `sum(rate(${REQUESTS}[${RI}]))`,
          ),
          legend: '5xx share',
        },
      ],
    },
    {
      type: 'stat',
      title: 'Latency p95',
      description: '95th percentile duration of every request, from the histogram buckets.',
      unit: 's',
      width: 6,
      queries: [
        {
          expr: quantileOf(0.95, `sum by (le) (rate(${DURATION}_bucket[${RI}]))`),
          legend: 'p95',
        },
      ],
    },
    {
      type: 'stat',
      title: 'Instances',
      description: `App instances running: distinct instance labels (a direct scrape of each app) or service_instance_id (apps behind the OTel Collector) whose ${PROM.hostEnergy} moved within about 2 min (the recording rule ${RUNNING_APPS}: an app that pushes every 60 s, the OTel SDK's default, counts at every scrape). The counter moves while an app runs, with requests or none; behind the Collector a stopped app's last value is exported on for 5 min, unmoving, and drops out of this count 2 min after its last push.`,
      unit: 'none',
      width: 6,
      queries: [
        {
          // Not the request count: an idle app has none, and a stopped one's stays exported.
          expr: `count(${RUNNING_APPS})`,
          legend: 'instances',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Request rate by route',
      description: `rate(${REQUESTS}[...]) summed per route template.`,
      unit: 'reqps',
      queries: [
        {
          expr: namingBeforeTheApp(`sum by (http_route) (rate(${REQUESTS}{${BY_ROUTE}}[${RI}]))`),
          legend: '{{http_route}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Responses by status',
      description: 'Responses per second by HTTP status code.',
      unit: 'reqps',
      stacked: true,
      queries: [
        {
          expr: `sum by (http_response_status_code) (rate(${REQUESTS}{${BY_ROUTE}}[${RI}]))`,
          legend: '{{http_response_status_code}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Errors by route',
      description:
        'Client (4xx) and server (5xx) errors per second by route and method; unmatched paths are http_route="unmatched", and what the server answered before the app (malformed requests, timeouts, oversized headers) has no http_route and shows as "(before the app)".',
      unit: 'reqps',
      queries: [
        {
          expr: namingBeforeTheApp(
            `sum by (http_route, http_request_method, http_response_status_code) (rate(${REQUESTS}{${BY_ROUTE}, http_response_status_code=~"[45].."}[${RI}]))`,
          ),
          legend: '{{http_request_method}} {{http_route}} {{http_response_status_code}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Latency quantiles by route',
      description: `p50, p95 and p99 from ${DURATION} buckets (linear interpolation inside a bucket).`,
      unit: 's',
      queries: [
        { expr: quantile(0.5), legend: 'p50 {{http_route}}' },
        { expr: quantile(0.95), legend: 'p95 {{http_route}}' },
        { expr: quantile(0.99), legend: 'p99 {{http_route}}' },
      ],
    },
    {
      type: 'timeseries',
      title: 'Average latency by route',
      description: `rate of ${DURATION}_sum over rate of ${DURATION}_count.`,
      unit: 's',
      queries: [
        {
          expr: namingBeforeTheApp(
            perRate(
              `sum by (http_route) (rate(${DURATION}_sum{${BY_ROUTE}}[${RI}]))`,
              `sum by (http_route) (rate(${REQUESTS}{${BY_ROUTE}}[${RI}]))`,
            ),
          ),
          legend: '{{http_route}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Latency p95 by route (1 m)',
      description: `The recording rule http_route:${DURATION}:p95_1m.`,
      unit: 's',
      queries: [
        {
          expr: namingBeforeTheApp(`http_route:${DURATION}:p95_1m{${BY_ROUTE}}`),
          legend: '{{http_route}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Inference latency',
      description: `p50 and p95 of ${PROM.inferenceDuration} (features + ONNX run) per model.`,
      unit: 's',
      width: 24,
      queries: [
        {
          expr: quantileOf(
            0.5,
            `sum by (carbonscope_model, le) (rate(${PROM.inferenceDuration}_bucket[${RI}]))`,
          ),
          legend: 'p50 {{carbonscope_model}}',
        },
        {
          expr: quantileOf(
            0.95,
            `sum by (carbonscope_model, le) (rate(${PROM.inferenceDuration}_bucket[${RI}]))`,
          ),
          legend: 'p95 {{carbonscope_model}}',
        },
      ],
    },
  ],
};
