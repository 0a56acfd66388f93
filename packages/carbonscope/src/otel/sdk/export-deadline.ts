import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { AgentOptions as HttpsAgentOptions } from 'node:https';
import { afterIo } from '../../after-io.js';
import { atDeadline } from '../../deadline.js';
import { clearTimeout, setTimeout } from '../../real-timers.js';
import { parseRetryAfter } from '../../retry-after.js';
import type { Env } from '../../settings.js';
import { IdleSockets, REUSE_IDLE_MS } from './idle-sockets.js';
import { partialSuccessIn, withPartialSuccess } from './partial-success.js';
import { BODY_READ } from './refusal-reason.js';
import { STOPPED_WAITING, WaitingExports } from './waiting-exports.js';

const REQUEST_START = 'http.client.request.start';
/** Published as an answer's head arrives, before the request's 'response' event. */
const RESPONSE_FINISH = 'http.client.response.finish';

/** The exporter's option `httpAgentOptions`: an agent factory. */
export type AgentFactory = (protocol: string) => Promise<Agent>;

/**
 * Where an agent built from options given to an exporter keeps its mark: Node's Agent keeps a
 * copy of its options, symbols too, and so does the exporter's factory made from options.
 */
const OWNER = Symbol('carbonscope.ownRequests');

/**
 * One exporter's requests: those sent through the agents made from `agents`, the exporter's
 * option `httpAgentOptions` in place of what it was given. The application's requests, even to
 * the same URL (its own SDK pushing to the same collector), go through agents of its own: never
 * cut, never read. Options, where no factory is needed: exporters before 0.204 (within the
 * peer range) take no factory, they read one as empty options (no keep-alive, no TLS files).
 */
export class OwnRequests {
  // `private`, not `#`: a `#private` in the published declarations is an error (TS18028) for a
  // consumer whose target is below ES2015 (TypeScript 5's default) with skipLibCheck off.
  private readonly made = new WeakSet<object>();
  readonly agents: AgentFactory | HttpsAgentOptions;
  /** Their kept-alive connections, not reused for a push after longer idle than the bound. */
  readonly idle: IdleSockets;
  /** Its exports unanswered, those that only wait answered at the process's end (stopWaiting). */
  readonly waiting = new WaitingExports();

  constructor(given: AgentFactory | HttpsAgentOptions, reuseIdleMs = REUSE_IDLE_MS) {
    this.agents = typeof given === 'function' ? this.remembering(given) : this.marked(given);
    this.idle = new IdleSockets(reuseIdleMs);
  }

  private remembering(factory: AgentFactory): AgentFactory {
    return async (protocol) => {
      const agent = await factory(protocol);
      this.made.add(agent);
      return agent;
    };
  }

  private marked(options: HttpsAgentOptions): HttpsAgentOptions {
    const marked: HttpsAgentOptions & { [OWNER]: OwnRequests } = { ...options, [OWNER]: this };
    return marked;
  }

  has(request: ClientRequest): boolean {
    // Node's ClientRequest keeps the agent it was sent through; @types/node leaves it out.
    const agent = (request as { agent?: unknown }).agent;
    if (typeof agent !== 'object' || agent === null) return false;
    return this.made.has(agent) || this.built(agent);
  }

  /**
   * Whether the exporter made `agent` itself, from its options: no request but its own can go
   * through it. One a factory gave may be shared (AgentFactory is public): never refused.
   */
  built(agent: object): boolean {
    const options = (agent as { options?: { [OWNER]?: unknown } }).options;
    return options?.[OWNER] === this;
  }
}

/** An export in flight: whose requests it sends, and when it must end (performance.now() ms). */
interface Flight {
  readonly own: OwnRequests;
  readonly at: number;
  /** The last HTTP answer one of its exporter's requests had while it flew. */
  answer?: HttpAnswer;
  /** A request known to be its own is open (deadlineOf): the next one is another export's. */
  sending?: boolean;
}

/**
 * What the exporter drops of a refusal: of a retryable one (429, 502, 503, 504) all but that it
 * was; of any, its body's bytes (it keeps them as UTF-8 text, which a protobuf may not survive)
 * and their type. The body's first BODY_READ bytes: its reason comes first.
 */
interface HttpAnswer {
  readonly status: number;
  readonly statusMessage: string;
  readonly retryAfter?: string;
  /**
   * When the Retry-After asked to be tried again, read as the answer came: performance.now()
   * ms, not the wall clock's, which a step back (NTP, a VM's resume) would make a longer wait.
   */
  readonly retryAt?: number;
  readonly contentType?: string;
  readonly body?: Buffer[];
}

/**
 * The exports in flight, of every wrapped exporter. Node's request-start channel is subscribed
 * only while this holds one: the application's own requests pay nothing between exports. No
 * AsyncLocalStorage: on Node 20 its first run() turns on promise hooks for the whole process,
 * for good, which slows a promise-heavy loop 3 times (1e6 awaits: 56 ms without, 180 with).
 */
const flights = new Set<Flight>();

/** The exporter whose agent sent `request`, if one of those in flight: none, for the app's. */
function ownerOf(request: ClientRequest): OwnRequests | undefined {
  for (const flight of flights) {
    if (flight.own.has(request)) return flight.own;
  }
  return undefined;
}

/**
 * When `request` of `own` must end: the deadline of its export, where it can be told. An export
 * has one request open at a time (its retry starts once the refused one closed), so a request
 * starting is that of an export of `own` with none known open; where one alone is left, it is
 * that one's, and that export is known to be sending until the request closes. Where several
 * are left (a push beside another's retry), the latest of theirs: the earliest cut a later push
 * at an earlier one's deadline. An earlier export's retry may then run to the later deadline
 * where the collector answers slowly (the exporter's idle timeout is no bound), no further:
 * never past the latest of the exporter's exports in flight, as that export's own request.
 */
function deadlineOf(own: OwnRequests, request: ClientRequest): number {
  let latest = Number.NEGATIVE_INFINITY;
  let only: Flight | undefined;
  let left = 0;
  for (const flight of flights) {
    if (flight.own !== own || flight.sending) continue;
    left += 1;
    only = flight;
    if (flight.at > latest) latest = flight.at;
  }
  if (left === 1 && only !== undefined) {
    const sender = only;
    sender.sending = true;
    request.once('close', () => {
      sender.sending = false;
    });
  }
  // None left: more requests open than exports (not the OTLP exporter's way): none cut early.
  return left > 0 ? latest : latestOf(own);
}

/** The latest deadline of `own`'s exports in flight. */
function latestOf(own: OwnRequests): number {
  let latest = Number.NEGATIVE_INFINITY;
  for (const flight of flights) {
    if (flight.own === own && flight.at > latest) latest = flight.at;
  }
  return latest;
}

/**
 * How the OTLP exporter words an export cut at its timeout: carbonscope's own cuts say the same,
 * so that one reason reads one way whichever timer fires first.
 */
export const EXPORT_TIMED_OUT = 'Request timed out';

/**
 * `value` and when it asks to be tried again, where it is a Retry-After (delta-seconds, or one
 * of RFC 9110's HTTP dates, as the grid client reads it), read once: anything else a collector
 * or a proxy wrote there, up to Node's 16 KiB of headers, stays out of the log line. Not
 * Date.parse: V8 reads `secret 12` as a date.
 */
function retryAfterOf(
  value: string | undefined,
  date: string | undefined,
): Pick<HttpAnswer, 'retryAfter' | 'retryAt'> | undefined {
  if (value === undefined || value.length > 40) return undefined;
  // A date is the collector's clock, as its answer's Date is: ours may be stepped or off.
  const waitMs = parseRetryAfter(value, Date.now(), date);
  return waitMs === undefined
    ? undefined
    : { retryAfter: value, retryAt: performance.now() + waitMs };
}

/** Has each export in flight of `own` keep `response`'s status as its last answer. */
function noteAnswer(own: OwnRequests, response: IncomingMessage): void {
  const status = response.statusCode ?? 0;
  const contentType = response.headers['content-type'];
  const answer: HttpAnswer = {
    status,
    statusMessage: response.statusMessage ?? '',
    ...retryAfterOf(response.headers['retry-after'], response.headers.date),
    ...(contentType !== undefined && { contentType }),
    // A refusal's reason, or a success's partial success (partialSuccessIn): either is read.
    body: bodyOf(response),
  };
  for (const flight of flights) {
    if (flight.own === own) flight.answer = answer;
  }
}

/**
 * The chunks of an answer's body as they come, up to BODY_READ bytes: read beside the exporter,
 * which reads it all (a second 'data' listener takes each chunk too, and changes no flow).
 */
function bodyOf(response: IncomingMessage): Buffer[] {
  const chunks: Buffer[] = [];
  let size = 0;
  const take = (chunk: Buffer | string) => {
    if (size >= BODY_READ) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    size += bytes.length;
  };
  response.on('data', take);
  return chunks;
}

/** The requests an exporter in flight sent, by that exporter. */
const watched = new WeakMap<ClientRequest, OwnRequests>();

/** The answers of watched requests (onResponse), whose end an idle timeout waits for. */
const answers = new WeakMap<ClientRequest, IncomingMessage>();

/**
 * Keeps the answer to a request of an exporter in flight for its exports (withStatus). Read from
 * the channel, not a 'response' listener: none is put on a request at all.
 */
function onResponse(message: unknown): void {
  const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
  const own = watched.get(request);
  if (own === undefined) return;
  answers.set(request, response);
  noteAnswer(own, response);
}

/**
 * The exporter's own timeout of `request` (req.setTimeout, an idle timeout: `timeout` listeners
 * set before the request starts) called after the I/O of the loop turn it fired in, and not once
 * the answer is in whole. Node runs the timers that expired while a process was stopped
 * (SIGSTOP, `docker pause`) or its loop blocked before it reads its sockets: a push the
 * collector had taken and answered failed as timed out, and was retried where time was left.
 */
function idleTimeoutAfterIo(request: ClientRequest): void {
  const own = request.listeners('timeout') as (() => void)[];
  if (own.length === 0) return;
  const late = afterIo(() => {
    if (answers.get(request)?.complete) return;
    for (const listener of own) listener.call(request);
  });
  // They were once listeners (ClientRequest.setTimeout's): each is called once, as before.
  request.removeAllListeners('timeout');
  request.once('timeout', late.run);
}

/**
 * Cuts a request of an exporter in flight at its export's deadline (deadlineOf), and keeps
 * its answer's status for them (onResponse). Any other request is left as it came.
 */
function onRequestStart(message: unknown): void {
  const request = (message as { request: ClientRequest }).request;
  const own = ownerOf(request);
  if (own === undefined) return;
  watched.set(request, own);
  // Node's ClientRequest keeps the agent it was sent through; @types/node leaves it out.
  const agent = (request as { agent?: Agent }).agent;
  if (agent) own.idle.saw(agent, request);
  own.waiting.sent(request, agent && own.built(agent) ? agent : undefined);
  idleTimeoutAfterIo(request);
  const cancel = atDeadline(
    Math.max(0, deadlineOf(own, request) - performance.now()),
    () => request.destroy(new Error(EXPORT_TIMED_OUT)),
    true,
  );
  request.once('close', cancel);
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
  if (answer !== undefined && error === undefined) return withPartial(result, answer);
  if (answer === undefined || !(error instanceof Error)) return result;
  if (error.message !== RETRYABLE_STATUS) return withBody(result, error, answer);
  // Another export's of the same exporter, in flight beside it (a flush beside a periodic one).
  if (!RETRIED_STATUSES.includes(answer.status)) return result;
  const after = answer.retryAfter === undefined ? '' : `, Retry-After ${answer.retryAfter}`;
  const text = `${answer.statusMessage || 'refused'}${after}`;
  const refused = refusal(new Error(text), answer);
  if (answer.retryAt !== undefined) Object.assign(refused, { retryAt: answer.retryAt });
  return { ...result, error: refused };
}

/** A successful `result` with the partial success its answer's body told, if any. */
function withPartial<R>(result: R, answer: HttpAnswer): R {
  if (answer.status >= 300 || answer.body === undefined || answer.body.length === 0) return result;
  const partial = partialSuccessIn(Buffer.concat(answer.body), answer.contentType);
  return withPartialSuccess(result, partial);
}

/**
 * `result` whose error is the exporter's for a refusal it does not retry (OTLPExporterError,
 * its status as `code`) with the body's bytes as they came (refusal); any other as it is.
 */
function withBody<R>(result: R, error: Error, answer: HttpAnswer): R {
  const code = (error as { code?: unknown }).code;
  if (code !== answer.status || answer.body === undefined) return result;
  const copy = Object.assign(new Error(error.message), { name: error.name });
  return { ...result, error: refusal(copy, answer) };
}

/** The error with the answer's status as `code`, its body's bytes as `data`, and their type. */
function refusal(error: Error, answer: HttpAnswer): Error {
  const data = answer.body && Buffer.concat(answer.body).subarray(0, BODY_READ);
  return Object.assign(error, {
    code: answer.status,
    ...(data && { data }),
    ...(answer.contentType !== undefined && { contentType: answer.contentType }),
  });
}

/** What export()s a batch with a callback: the OTLP exporters of every signal. */
interface Exporting<T, R> {
  export(items: T, done: (result: R) => void): void;
  forceFlush?(): Promise<void>;
  shutdown?(): Promise<void>;
}

/** ExportResultCode.FAILED of @opentelemetry/core, as optional-sdk's EXPORT_FAILED. */
const FAILED = 1;

/** What stopWaiting calls for an exporter: exportsWithin's, and wrappers that pass it on. */
const stoppers = new WeakMap<object, () => void>();

/**
 * The process's end began, and `exporter` (exportsWithin's, or one waitingPassedOn named) makes
 * no push but the one under way: an export of it that only waits out its retry backoff is
 * answered failed now, its retry is never sent, and its forceFlush and shutdown no longer wait
 * for it (WaitingExports). For the periodic exporter beside the last push's own (lastPushWithin):
 * an exporter that makes the last push itself must not be stopped. Any other: nothing happens.
 */
export function stopWaiting(exporter: object): void {
  stoppers.get(exporter)?.();
}

/** `outer`, a wrapper around `inner`, stops `inner`'s waiting where stopWaiting is called on it. */
export function waitingPassedOn(outer: object, inner: object): void {
  const stop = stoppers.get(inner);
  if (stop !== undefined) stoppers.set(outer, stop);
}

/** The failure an export that waited at the stop is answered with: its refusal, if it had one. */
function stoppedResult<R>(answer: HttpAnswer | undefined): R {
  const refused = answer !== undefined && RETRIED_STATUSES.includes(answer.status);
  const result = { code: FAILED, error: new Error(refused ? RETRYABLE_STATUS : STOPPED_WAITING) };
  // The ExportResult of every signal's exporter: @opentelemetry/core's, one shape for all.
  return withStatus(result as R, answer);
}

/**
 * `exporter`, each export of it ending within `timeoutMs` as a whole. The OTel OTLP/HTTP
 * exporters' timeout is their socket's idle timeout, which every byte restarts: a collector
 * (or a proxy) that answers one byte at a time would keep an export, and the periodic reader's
 * next ones queued behind it, alive for as long as it liked. While an export is in flight,
 * each request the exporter sends through `own`'s agents (which it must have been given) is
 * destroyed at its deadline, which the exporter takes as any failed request (no retry: its own
 * deadline is the same). Other requests, the application's to the same URL too, are left alone.
 */
export function exportsWithin<E extends Exporting<T, R>, T, R>(
  exporter: E,
  timeoutMs: number,
  own: OwnRequests,
): E {
  const inner = exporter.export.bind(exporter);
  const { waiting } = own;
  /** Each export's answer, settled when it is answered (at the stop, if it waited). */
  const answering = new Set<Promise<void>>();
  exporter.export = (items, done) => {
    if (waiting.stopped) {
      done(stoppedResult(undefined));
      return;
    }
    const now = performance.now();
    own.idle.dropStale(now);
    const flight: Flight = { own, at: now + timeoutMs };
    takeOff(flight);
    // An exporter that never answered would keep the channel subscribed: one timeout more.
    const stray = setTimeout(() => land(flight), 2 * timeoutMs);
    stray.unref();
    let answered: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => {
      answered = resolve;
    });
    answering.add(settled);
    // Answered at the stop, the flight flies on until the exporter's own answer: a request its
    // retry would still start (through an agent not seen yet) is cut (WaitingExports.sent).
    const answer = once((result: R) => {
      answered();
      answering.delete(settled);
      done(result);
    });
    const answeredHere = waiting.began(() => answer(stoppedResult(flight.answer)));
    const late = (result: R) => {
      clearTimeout(stray);
      own.idle.used(performance.now());
      land(flight);
      answeredHere();
      answer(withStatus(result, flight.answer));
    };
    try {
      inner(items, late);
    } catch (err) {
      clearTimeout(stray);
      land(flight);
      answeredHere();
      answering.delete(settled);
      throw err;
    }
  };
  // From the stop, they wait for the exports with a request open alone, not for a retry's timer.
  const flush = exporter.forceFlush?.bind(exporter);
  const shutdown = exporter.shutdown?.bind(exporter);
  const answers = async () => {
    await Promise.all(answering);
  };
  if (flush) exporter.forceFlush = () => (waiting.stopped ? answers() : flush());
  if (shutdown) {
    exporter.shutdown = async () => {
      if (!waiting.stopped) return shutdown();
      await answers();
      // Its transport's end comes after the abandoned retry's timer: not waited for.
      shutdown().catch(() => undefined);
    };
  }
  stoppers.set(exporter, () => waiting.stop());
  return exporter;
}

/** `fn`, called once: later calls do nothing. */
function once<A>(fn: (arg: A) => void): (arg: A) => void {
  let called = false;
  return (arg) => {
    if (called) return;
    called = true;
    fn(arg);
  };
}

/** `url` if it parses, as the exporter takes a variable: one that does not is left unset. */
function parsing(url: string | undefined): string | undefined {
  return url?.trim() && URL.canParse(url) ? url : undefined;
}

/** A signal an OTLP/HTTP exporter pushes, by the name its variables and its path take. */
export type OtlpSignal = 'metrics' | 'traces';

/** The signal's own endpoint variable, used as given: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT. */
export function otlpSignalVariable(signal: OtlpSignal): string {
  return `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
}

/**
 * The URL the OTLP/HTTP exporter of `signal` pushes to when given none, by its own rules: the
 * signal's endpoint as written, else the base endpoint with `v1/<signal>` appended after one
 * slash, else localhost:4318 (a variable that does not parse counts as unset). The exporter
 * reads process.env; `env` is that in every caller.
 */
export function otlpSignalEndpoint(env: Env, signal: OtlpSignal): string {
  const specific = parsing(env[otlpSignalVariable(signal)]);
  if (specific) return specific;
  const base = parsing(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const appended = base && parsing(`${base.endsWith('/') ? base : `${base}/`}v1/${signal}`);
  return appended || `http://localhost:4318/v1/${signal}`;
}

/** The URL the OTLP/HTTP metric exporter pushes to when given none (otlpSignalEndpoint). */
export function otlpMetricsEndpoint(env: Env): string {
  return otlpSignalEndpoint(env, 'metrics');
}
