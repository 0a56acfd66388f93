import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Env } from '../settings.js';

const REQUEST_START = 'http.client.request.start';
/** Published as an answer's head arrives, before the request's 'response' event. */
const RESPONSE_FINISH = 'http.client.response.finish';

/** An export in flight: where its requests go, and when it must end (performance.now() ms). */
interface Flight {
  readonly endpoint: string;
  readonly at: number;
  /** The last HTTP answer a request to its endpoint had while it flew. */
  answer?: HttpAnswer;
}

/** What the exporter drops of a retryable refusal (429, 502, 503, 504): all but that it was. */
interface HttpAnswer {
  readonly status: number;
  readonly statusMessage: string;
  readonly retryAfter?: string;
}

/**
 * The exports in flight, of every wrapped exporter. Node's request-start channel is subscribed
 * only while this holds one: the application's own requests pay nothing between exports. No
 * AsyncLocalStorage: on Node 20 its first run() turns on promise hooks for the whole process,
 * for good, which slows a promise-heavy loop 3 times (1e6 awaits: 56 ms without, 180 with).
 */
const flights = new Set<Flight>();

/** Origin and path: what a request and a configured URL are compared by. */
function endpointOfUrl(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { protocol, host, pathname } = new URL(url);
  return `${protocol}//${host}${pathname}`;
}

/**
 * A request's origin and path. Node builds its Host header from the host and the port as
 * URL.host writes them (default port left out, IPv6 in brackets); an exporter whose headers
 * set Host matches nothing and keeps its own (idle) timeout.
 */
function endpointOfRequest(request: ClientRequest): string {
  const path = request.path.split('?', 1)[0];
  return `${request.protocol}//${String(request.getHeader('host'))}${path}`;
}

/** The earliest deadline of the exports in flight to `endpoint`, if any. */
function earliestTo(endpoint: string): number | undefined {
  let earliest: number | undefined;
  for (const flight of flights) {
    if (flight.endpoint === endpoint && (earliest === undefined || flight.at < earliest)) {
      earliest = flight.at;
    }
  }
  return earliest;
}

/**
 * How the OTLP exporter words an export cut at its timeout: carbonscope's own cuts say the same,
 * so that one reason reads one way whichever timer fires first.
 */
export const EXPORT_TIMED_OUT = 'Request timed out';

/**
 * `value` where it is a Retry-After (seconds, or an HTTP date: 29 characters): anything else a
 * collector or a proxy wrote there, up to Node's 16 KiB of headers, stays out of the log line.
 */
function retryAfterOf(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 40) return undefined;
  return /^\d+$/.test(value) || !Number.isNaN(Date.parse(value)) ? value : undefined;
}

/** Has each export in flight to `endpoint` keep `response`'s status as its last answer. */
function noteAnswer(endpoint: string, response: IncomingMessage): void {
  const retryAfter = retryAfterOf(response.headers['retry-after']);
  const answer: HttpAnswer = {
    status: response.statusCode ?? 0,
    statusMessage: response.statusMessage ?? '',
    ...(retryAfter && { retryAfter }),
  };
  for (const flight of flights) {
    if (flight.endpoint === endpoint) flight.answer = answer;
  }
}

/** The requests that started to an endpoint while an export to it flew, by that endpoint. */
const watched = new WeakMap<ClientRequest, string>();

/**
 * Keeps a watched request's answer for the exports to its endpoint (withStatus). Read from the
 * channel, not a 'response' listener: one would keep Node from dumping the answer to a request
 * of the application's that has none, and its socket busy until the deadline cut it.
 */
function onResponse(message: unknown): void {
  const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
  const endpoint = watched.get(request);
  if (endpoint !== undefined) noteAnswer(endpoint, response);
}

/**
 * Cuts a request to an exporter's endpoint at the earliest deadline of its exports, and keeps
 * its answer's status for them (onResponse).
 */
function onRequestStart(message: unknown): void {
  const request = (message as { request: ClientRequest }).request;
  const endpoint = endpointOfRequest(request);
  const at = earliestTo(endpoint);
  if (at === undefined) return;
  watched.set(request, endpoint);
  const cut = setTimeout(
    () => {
      request.destroy(new Error(EXPORT_TIMED_OUT));
    },
    Math.max(0, at - performance.now()),
  );
  cut.unref();
  request.once('close', () => clearTimeout(cut));
}

function takeOff(flight: Flight): void {
  if (flights.size === 0) {
    subscribe(REQUEST_START, onRequestStart);
    subscribe(RESPONSE_FINISH, onResponse);
  }
  flights.add(flight);
}

function land(flight: Flight): void {
  if (!flights.delete(flight)) return;
  if (flights.size > 0) return;
  unsubscribe(REQUEST_START, onRequestStart);
  unsubscribe(RESPONSE_FINISH, onResponse);
}

/** How the OTLP/HTTP exporters word a refusal they would retry: they keep no status. */
const RETRYABLE_STATUS = 'Export failed with retryable status';
/** The statuses the exporters retry (isExportHTTPErrorRetryable). */
const RETRIED_STATUSES = [429, 502, 503, 504];

/**
 * `result` with the status of `answer` where the exporter's error says only that the collector
 * refused with a status it retries: "Service Unavailable (HTTP 503)", as a refusal it does not
 * retry reads, and the Retry-After the collector asked for. Any other result as it is.
 */
function withStatus<R>(result: R, answer: HttpAnswer | undefined): R {
  const error = (result as { error?: unknown }).error;
  if (answer === undefined || !(error instanceof Error) || error.message !== RETRYABLE_STATUS) {
    return result;
  }
  // Another export's answer to the same endpoint (the last push beside a periodic one).
  if (!RETRIED_STATUSES.includes(answer.status)) return result;
  const after = answer.retryAfter === undefined ? '' : `, Retry-After ${answer.retryAfter}`;
  const text = `${answer.statusMessage || 'refused'}${after}`;
  return { ...result, error: Object.assign(new Error(text), { code: answer.status }) };
}

/** What export()s a batch with a callback: the OTLP exporters of every signal. */
interface Exporting<T, R> {
  export(items: T, done: (result: R) => void): void;
}

/**
 * `exporter`, each export of it ending within `timeoutMs` as a whole. The OTel OTLP/HTTP
 * exporters' timeout is their socket's idle timeout, which every byte restarts: a collector
 * (or a proxy) that answers one byte at a time would keep an export, and the periodic reader's
 * next ones queued behind it, alive for as long as it liked. While an export is in flight,
 * each request that starts to `url` (the exporter's endpoint: origin and path) is destroyed
 * at its deadline, which the exporter takes as any failed request (no retry: its own deadline
 * is the same). Other requests, the application's, are left alone.
 */
export function exportsWithin<E extends Exporting<T, R>, T, R>(
  exporter: E,
  timeoutMs: number,
  url: string,
): E {
  const endpoint = endpointOfUrl(url);
  // The exporter fails each export to a URL that does not parse, at once.
  if (endpoint === undefined) return exporter;
  const inner = exporter.export.bind(exporter);
  exporter.export = (items, done) => {
    const flight: Flight = { endpoint, at: performance.now() + timeoutMs };
    takeOff(flight);
    // An exporter that never answered would keep the channel subscribed: one timeout more.
    const stray = setTimeout(() => land(flight), 2 * timeoutMs);
    stray.unref();
    const answer = (result: R) => {
      clearTimeout(stray);
      land(flight);
      done(withStatus(result, flight.answer));
    };
    try {
      inner(items, answer);
    } catch (err) {
      clearTimeout(stray);
      land(flight);
      throw err;
    }
  };
  return exporter;
}

/** `url` if it parses, as the exporter takes a variable: one that does not is left unset. */
function parsing(url: string | undefined): string | undefined {
  return url?.trim() && URL.canParse(url) ? url : undefined;
}

/**
 * The URL the OTLP/HTTP metric exporter pushes to when given none, by its own rules: the
 * metrics endpoint as written, else the base endpoint with `v1/metrics` appended after one
 * slash, else localhost:4318 (a variable that does not parse counts as unset). The exporter
 * reads process.env; `env` is that in every caller.
 */
export function otlpMetricsEndpoint(env: Env): string {
  const specific = parsing(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  if (specific) return specific;
  const base = parsing(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const appended = base && parsing(`${base.endsWith('/') ? base : `${base}/`}v1/metrics`);
  return appended || 'http://localhost:4318/v1/metrics';
}
