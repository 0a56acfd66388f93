/**
 * Load generation and the little statistics the benchmarks need. autocannon runs in this
 * process (one core); the server under test runs in its own process (the other core).
 */
import autocannon from 'autocannon';

/** One request autocannon sends; `setupRequest` may replace it per request. */
export interface LoadRequest {
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Cycled in order on every connection. */
  requests: LoadRequest[];
  /** Called for every request; returns the request to send instead (for random mixes). */
  pick?: () => LoadRequest;
  /**
   * Requests per second over all connections (an open loop: a route asked at a set rate, not
   * as fast as it answers, with at most `connections` in flight); as fast as it answers when
   * absent.
   */
  overallRate?: number;
  /** A request unanswered after this long counts as an error (10 s by default). */
  timeoutSeconds?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  status2xx: number;
  status4xx: number;
  status5xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
}

/** Refuses anything but a loopback target: the load must never leave the machine. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(`refusing to load ${host}: only loopback addresses are allowed`);
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  assertLoopback(options.url);
  const pick = options.pick;
  // A copy of the headers every time: autocannon writes Content-Length into the object it is
  // given, and the mix shares one headers object among its posts, which a later fetch of the
  // same mix would then send with another body's length.
  const full = (r: LoadRequest) => ({
    method: r.method ?? 'GET',
    path: r.path,
    headers: { ...r.headers },
    body: r.body,
  });
  const requests = options.requests.map((r) => ({
    ...full(r),
    // autocannon sends what setupRequest returns as it is: the target's hostname and port, in the
    // request it is handed, must stay, or Host goes out as `undefined:undefined` (a 400).
    ...(pick
      ? { setupRequest: (given: autocannon.Request) => ({ ...given, ...full(pick()) }) }
      : {}),
  }));
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    requests,
    // A stuck request fails the run rather than hanging it.
    timeout: options.timeoutSeconds ?? 10,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });
  const statusCounts: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCounts[code] = stat.count ?? 0;
  }
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    status2xx: result['2xx'],
    status4xx: result['4xx'],
    status5xx: result['5xx'],
    errors: result.errors + result.timeouts,
    statusCounts,
  };
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
