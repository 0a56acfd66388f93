import type { DashboardSpec } from './grafana.js';

/** `$endpoint` is the dashboard variable; "All" is the regex `.*`. */
const BY_ENDPOINT = 'endpoint=~"$endpoint"';
const RI = '$__rate_interval';

function quantile(q: number, selector = BY_ENDPOINT): string {
  return `histogram_quantile(${q}, sum by (endpoint, le) (rate(request_latency_seconds_bucket{${selector}}[${RI}])))`;
}

/** "Service": the request view every HTTP service needs — rate, errors, latency per endpoint. */
export const serviceDashboard: DashboardSpec = {
  uid: 'carbonscope-service',
  title: 'carbonscope · Service',
  description:
    'Requests, errors and latency per endpoint (route template), from requests_total and request_latency_seconds.',
  tags: ['carbonscope'],
  variables: [
    { name: 'endpoint', label: 'Endpoint', query: 'label_values(requests_total, endpoint)' },
  ],
  panels: [
    {
      type: 'stat',
      title: 'Request rate',
      description: 'Requests per second over the last minute, every endpoint (recording rule).',
      unit: 'reqps',
      width: 6,
      decimals: 2,
      queries: [{ expr: 'sum(endpoint:requests:rate1m)', legend: 'requests/s' }],
    },
    {
      type: 'stat',
      title: 'Server errors',
      description: 'Share of responses with a 5xx status. 0 when there were none.',
      unit: 'percentunit',
      width: 6,
      decimals: 2,
      queries: [
        {
          expr: `(sum(rate(requests_total{status=~"5.."}[${RI}])) or vector(0)) / sum(rate(requests_total[${RI}]))`,
          legend: '5xx share',
        },
      ],
    },
    {
      type: 'stat',
      title: 'Latency p95',
      description: '95th percentile latency of every request, from the histogram buckets.',
      unit: 's',
      width: 6,
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (le) (rate(request_latency_seconds_bucket[${RI}])))`,
          legend: 'p95',
        },
      ],
    },
    {
      type: 'stat',
      title: 'Instances',
      description:
        'App instances reporting: distinct instance labels (a direct scrape of each app) or service_instance_id (apps behind the OTel Collector).',
      unit: 'none',
      width: 6,
      queries: [
        {
          expr: 'count(count by (instance, service_instance_id) (requests_total))',
          legend: 'instances',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Request rate by endpoint',
      description: 'rate(requests_total[...]) summed per route template.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (endpoint) (rate(requests_total{${BY_ENDPOINT}}[${RI}]))`,
          legend: '{{endpoint}}',
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
          expr: `sum by (status) (rate(requests_total{${BY_ENDPOINT}}[${RI}]))`,
          legend: '{{status}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Errors by endpoint',
      description:
        'Client (4xx) and server (5xx) errors per second by endpoint; unmatched paths are endpoint="unmatched".',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (endpoint, status) (rate(requests_total{${BY_ENDPOINT}, status=~"[45].."}[${RI}]))`,
          legend: '{{endpoint}} {{status}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Latency quantiles by endpoint',
      description:
        'p50, p95 and p99 from request_latency_seconds buckets (linear interpolation inside a bucket).',
      unit: 's',
      queries: [
        { expr: quantile(0.5), legend: 'p50 {{endpoint}}' },
        { expr: quantile(0.95), legend: 'p95 {{endpoint}}' },
        { expr: quantile(0.99), legend: 'p99 {{endpoint}}' },
      ],
    },
    {
      type: 'timeseries',
      title: 'Average latency by endpoint',
      description:
        'rate of request_latency_seconds_sum over rate of request_latency_seconds_count.',
      unit: 's',
      queries: [
        {
          expr: `sum by (endpoint) (rate(request_latency_seconds_sum{${BY_ENDPOINT}}[${RI}])) / sum by (endpoint) (rate(request_latency_seconds_count{${BY_ENDPOINT}}[${RI}]))`,
          legend: '{{endpoint}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Latency p95 by endpoint (1 m)',
      description: 'The recording rule endpoint:request_latency_seconds:p95_1m.',
      unit: 's',
      queries: [
        {
          expr: `endpoint:request_latency_seconds:p95_1m{${BY_ENDPOINT}}`,
          legend: '{{endpoint}}',
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Inference latency',
      description: 'p50 and p95 of inference_duration_seconds (features + ONNX run) per model.',
      unit: 's',
      width: 24,
      queries: [
        {
          expr: `histogram_quantile(0.5, sum by (model, le) (rate(inference_duration_seconds_bucket[${RI}])))`,
          legend: 'p50 {{model}}',
        },
        {
          expr: `histogram_quantile(0.95, sum by (model, le) (rate(inference_duration_seconds_bucket[${RI}])))`,
          legend: 'p95 {{model}}',
        },
      ],
    },
  ],
};
