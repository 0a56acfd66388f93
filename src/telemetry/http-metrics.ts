import type { Attributes, Meter } from '@opentelemetry/api';
import type { Context, Middleware } from 'koa';

export const LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Every path no route matched shares this label value, so random URLs cannot add series. */
export const UNMATCHED_ENDPOINT = 'unmatched';

/** The route template that served the request (`/predict`), never the raw path. */
export function endpointOf(ctx: Context): string {
  const route = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof route === 'string' ? route : UNMATCHED_ENDPOINT;
}

/** `requests_total{endpoint,status}` and `request_latency_seconds{endpoint}`. */
export function httpMetrics(meter: Meter): Middleware {
  const requests = meter.createCounter('requests', {
    description: 'HTTP requests served, by route template and status code',
    unit: '{request}',
  });
  const latency = meter.createHistogram('request_latency_seconds', {
    description: 'HTTP request latency, by route template',
    unit: 's',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
  });
  // One attributes object per (endpoint, status), reused for every request: recording then
  // allocates nothing of ours. Both label sets are bounded (route templates, status codes).
  const byEndpoint = new Map<string, { endpoint: Attributes; statuses: Map<number, Attributes> }>();
  const attributesOf = (endpoint: string) => {
    let entry = byEndpoint.get(endpoint);
    if (!entry) {
      entry = { endpoint: { endpoint }, statuses: new Map() };
      byEndpoint.set(endpoint, entry);
    }
    return entry;
  };
  return async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - start) / 1000;
      const entry = attributesOf(endpointOf(ctx));
      let status = entry.statuses.get(ctx.status);
      if (!status) {
        status = { ...entry.endpoint, status: String(ctx.status) };
        entry.statuses.set(ctx.status, status);
      }
      requests.add(1, status);
      latency.record(seconds, entry.endpoint);
    }
  };
}
