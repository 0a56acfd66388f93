import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import { elapsedText } from '../elapsed-text.js';
import type { Logger } from '../log.js';
import { registerPresent } from '../register-present.js';
import { isPrometheusExporterServer } from './exporter-server.js';

const REQUEST_START = 'http.server.request.start';

/** The first request served before tracking began: its server, and when (performance.now). */
interface EarlyRequest {
  server: WeakRef<Server>;
  atMs: number;
}

/**
 * Watches for a request served before carbonscope tracks requests (the application's
 * `listen()` before `start()` and `trackRequests()`, or while register's start probes its power
 * sources): such requests are in no figure, and nothing else would say so. Costs the first
 * request one call, then nothing: the watch ends at it, and only begins again where that
 * request's server closes (a test's stub, a server closed before the start, whose requests no
 * later tracking could miss). Told once, as tracking first begins.
 */
export class EarlyRequestWatch {
  private first: EarlyRequest | undefined;
  private subscribed = false;
  /** Tracking began: nothing is watched again, nor told. */
  private over = false;
  private readonly onRequest = (message: unknown) => this.seen(message);
  private readonly onClose = () => this.forget();
  private readonly unwatch = () => this.stopWatching();

  /** Whether a request would reach it now (one call per request while true). */
  get watching(): boolean {
    return this.subscribed;
  }

  watch(): void {
    if (this.subscribed || this.over || this.first !== undefined) return;
    this.subscribed = true;
    subscribe(REQUEST_START, this.onRequest);
  }

  /**
   * Says once, through `logger`, as tracking begins, that a server still listening (one of
   * `servers` where only those are tracked) served requests before it: how long before, and how
   * to track them. Ends the watch for good.
   */
  tell(logger: Logger | undefined, servers: ReadonlySet<object> | undefined): void {
    if (this.over) return;
    this.over = true;
    this.stopWatching();
    const early = this.first;
    this.first = undefined;
    const server = early?.server.deref();
    if (early === undefined || server === undefined) return;
    server.off('close', this.onClose);
    if (!logger || !server.listening || (servers !== undefined && !servers.has(server))) return;
    logger.warn(earlyRequestsText(performance.now() - early.atMs, registerPresent()));
  }

  private seen(message: unknown): void {
    if (this.first !== undefined || this.over) return;
    const { server } = message as { server: Server };
    // A scrape of the application's OTel Prometheus exporter is no request of its own.
    if (isPrometheusExporterServer(server)) return;
    this.first = { server: new WeakRef(server), atMs: performance.now() };
    server.once('close', this.onClose);
    // After the publish that called this: unsubscribed inside it, a Node without
    // nodejs/node#55116 skips the next subscriber (a tracer's) for this request.
    queueMicrotask(this.unwatch);
  }

  private stopWatching(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    unsubscribe(REQUEST_START, this.onRequest);
  }

  /** The first request's server closed before tracking began: watch for the next one. */
  private forget(): void {
    this.first = undefined;
    this.watch();
  }
}

/**
 * The one line of EarlyRequestWatch.tell. Under register, which tracks from its start on, only
 * a server that answered while its power sources were probed meets it: nothing the application
 * can call sooner.
 */
export function earlyRequestsText(agoMs: number, register: boolean): string {
  const ago = agoMs < 1000 ? `${Math.round(agoMs)} ms` : elapsedText(agoMs);
  const remedy = register
    ? 'register tracks them once its meter has started, its power sources probed'
    : 'begin tracking before the server listens (await start() then cs.trackRequests(), or await instrumentation.ready())';
  return `HTTP requests were served before carbonscope began tracking them (the first ${ago} before): they are in no request's figure; ${remedy}`;
}

/** What every copy of the package asks of the process's watch, whichever copy made it. */
type SharedWatch = Pick<EarlyRequestWatch, 'watch' | 'tell'>;

const KEY = Symbol.for('carbonscope.early-requests.v1');
const holder = globalThis as { [KEY]?: SharedWatch };

/**
 * The process's watch (its thread's), one for every copy of the package, on globalThis: a copy's
 * own would not know that another's tracking (register's) began, and tell of requests it counted.
 */
holder[KEY] ??= new EarlyRequestWatch();
const processWatch: SharedWatch = holder[KEY];

/** Begins the process's watch (index.ts as it loads, register before the application's). */
export function watchEarlyRequests(): void {
  processWatch.watch();
}

/** The process's watch told, as request tracking begins (trackHttpRequests). */
export function tellEarlyRequests(
  logger: Logger | undefined,
  servers: ReadonlySet<object> | undefined,
): void {
  processWatch.tell(logger, servers);
}
