/**
 * A gentle, bounded traffic generator: every endpoint of the service, with some bad inputs and
 * random paths, so a fresh stack's dashboards fill within a minute. `npm run traffic` (after
 * `npm run build`); options: --base-url (default http://127.0.0.1:$PORT or :8001), --rate
 * requests per second (default 2, at most 50), --duration seconds (default 60, at most 86400),
 * --requests (stop after this many). Runs until the first bound is reached or SIGINT.
 */

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pick } from './predict/rng.js';

export interface TrafficRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON body for POST. */
  body?: unknown;
  /** The Accept header; JSON unless a browser page is wanted. */
  accept?: string;
  /** How often it is drawn relative to the others. */
  weight: number;
}

const JSON_ACCEPT = 'application/json';
const HTML_ACCEPT = 'text/html';

const ACTIVITIES = [
  'driving 10 hours',
  'a return flight from Berlin to Lisbon',
  'cycling to work',
  'eating a beef burger',
  'streaming a film for two hours',
  'taking the train to Paris',
];

const ZONES = ['DE', 'FR', 'PL', 'SE', 'de'];

/**
 * Every endpoint, good and bad inputs; weights keep expensive calls (chat) rare. Zones,
 * activities and the unknown path are drawn with `random` on each call, so a fresh plan per
 * request spreads the traffic over them.
 */
export function trafficPlan(random: () => number = Math.random): TrafficRequest[] {
  const one = <T>(items: readonly T[]): T => pick(items, random);
  return [
    { method: 'GET', path: '/healthz', weight: 2 },
    { method: 'GET', path: '/readyz', weight: 1 },
    { method: 'GET', path: '/metrics', weight: 1, accept: 'text/plain' },
    { method: 'GET', path: `/carbon_intensity?zone=${one(ZONES)}`, weight: 3 },
    { method: 'GET', path: '/carbon_intensity', weight: 1, accept: HTML_ACCEPT },
    { method: 'GET', path: `/carbon_intensity/history?zone=${one(ZONES)}`, weight: 1 },
    { method: 'GET', path: '/carbon_intensity?zone=not-a-zone', weight: 1 },
    { method: 'GET', path: '/energy', weight: 2 },
    { method: 'GET', path: '/predict', weight: 1, accept: HTML_ACCEPT },
    { method: 'POST', path: '/predict', body: { activity: one(ACTIVITIES) }, weight: 4 },
    { method: 'POST', path: '/predict', body: { activity: '' }, weight: 1 },
    { method: 'POST', path: '/predict', body: ['not', 'an', 'object'], weight: 1 },
    { method: 'GET', path: '/chat', weight: 1 },
    {
      method: 'POST',
      path: '/chat',
      body: {
        messages: [{ role: 'user', content: `What is the footprint of ${one(ACTIVITIES)}?` }],
      },
      weight: 1,
    },
    { method: 'POST', path: '/chat', body: { messages: [] }, weight: 1 },
    { method: 'GET', path: '/dashboard', weight: 1, accept: HTML_ACCEPT },
    { method: 'GET', path: '/dashboard/data', weight: 1 },
    { method: 'GET', path: randomPath(random), weight: 1 },
  ];
}

/** A path no route serves; the service must answer 404 and label it endpoint="unmatched". */
export function randomPath(random: () => number = Math.random): string {
  const word = () =>
    Array.from({ length: 3 + Math.floor(random() * 6) }, () =>
      String.fromCharCode(97 + Math.floor(random() * 26)),
    ).join('');
  return `/${word()}/${word()}`;
}

function weightedPick(plan: TrafficRequest[], random: () => number): TrafficRequest {
  const total = plan.reduce((sum, r) => sum + r.weight, 0);
  let at = random() * total;
  for (const request of plan) {
    at -= request.weight;
    if (at < 0) return request;
  }
  return plan[plan.length - 1] as TrafficRequest;
}

export interface TrafficResult {
  request: TrafficRequest;
  /** HTTP status, or 0 when the request failed before an answer. */
  status: number;
}

/** Sends one request and drains the answer; never throws for HTTP or network errors. */
export async function send(
  baseUrl: string,
  request: TrafficRequest,
  timeoutMs = 10_000,
): Promise<TrafficResult> {
  const headers: Record<string, string> = { accept: request.accept ?? JSON_ACCEPT };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(new URL(request.path, baseUrl), {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return { request, status: res.status };
  } catch {
    return { request, status: 0 };
  }
}

/** Sends every request of the plan once, in order: the sweep the stack test uses. */
export async function sweep(
  baseUrl: string,
  random: () => number = Math.random,
): Promise<TrafficResult[]> {
  const results: TrafficResult[] = [];
  for (const request of trafficPlan(random)) results.push(await send(baseUrl, request));
  return results;
}

export interface TrafficOptions {
  baseUrl: string;
  ratePerSecond: number;
  durationMs: number;
  maxRequests?: number;
  signal?: AbortSignal;
  random?: () => number;
  onResult?: (result: TrafficResult) => void;
}

export interface TrafficSummary {
  sent: number;
  byStatus: Record<string, number>;
}

/**
 * Draws weighted requests at a steady rate, one at a time: never more than one request in
 * flight, so a slow endpoint slows the generator instead of piling up load.
 */
export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  const random = options.random ?? Math.random;
  const gapMs = 1000 / options.ratePerSecond;
  // The monotonic clock: a step of the wall clock (a VM resuming) must not end or stretch a run.
  const deadline = performance.now() + options.durationMs;
  const limit = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const summary: TrafficSummary = { sent: 0, byStatus: {} };
  while (summary.sent < limit && performance.now() < deadline && !options.signal?.aborted) {
    const started = performance.now();
    const result = await send(options.baseUrl, weightedPick(trafficPlan(random), random));
    summary.sent++;
    const key = String(result.status);
    summary.byStatus[key] = (summary.byStatus[key] ?? 0) + 1;
    options.onResult?.(result);
    const wait = gapMs - (performance.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return summary;
}

function boundedNumber(raw: string | undefined, name: string, fallback: number, max: number) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new Error(`--${name} must be a number in (0, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Names both bounds where --requests is given: the run ends at whichever comes first. */
function startLine(rate: number, origin: string, durationMs: number, maxRequests?: number) {
  const bounds = `for ${durationMs / 1000} s`;
  const either =
    maxRequests === undefined ? '' : ` or ${maxRequests} requests, whichever comes first`;
  return `traffic: ${rate}/s to ${origin} ${bounds}${either}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'base-url': { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
    },
  });
  const baseUrl = values['base-url'] ?? `http://127.0.0.1:${process.env.PORT || 8001}`;
  const parsed = new URL(baseUrl);
  if (!/^https?:$/.test(parsed.protocol)) throw new Error('--base-url must be http(s)');
  const ratePerSecond = boundedNumber(values.rate, 'rate', 2, 50);
  const durationMs = boundedNumber(values.duration, 'duration', 60, 86_400) * 1000;
  const maxRequests = values.requests
    ? boundedNumber(values.requests, 'requests', 1, 10_000_000)
    : undefined;
  const controller = new AbortController();
  // Kept on (abort() again is a no-op): Ctrl-C under npm sends SIGINT twice, and the run ends
  // only after its request in flight, where a second with no listener would end the tool unsaid.
  process.on('SIGINT', () => controller.abort());
  process.on('SIGTERM', () => controller.abort());
  process.stdout.write(`${startLine(ratePerSecond, parsed.origin, durationMs, maxRequests)}\n`);
  const summary = await runTraffic({
    baseUrl: parsed.origin,
    ratePerSecond,
    durationMs,
    maxRequests,
    signal: controller.signal,
  });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`traffic: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
