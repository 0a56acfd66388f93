import type { Meter } from '@opentelemetry/api';
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
  return async (ctx, next) => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const endpoint = endpointOf(ctx);
      requests.add(1, { endpoint, status: String(ctx.status) });
      latency.record(seconds, { endpoint });
    }
  };
}
