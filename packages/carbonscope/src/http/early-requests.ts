import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { elapsedText } from '../elapsed-text.js';
import { setHidden } from '../hidden-slot.js';
import type { Logger } from '../log.js';
import { isPrometheusExporterServer } from './exporter-server.js';

const REQUEST_START = 'http.server.request.start';

/**
 * Servers remembered at once: a process serves from one or two (an application's, an admin
 * port's). Beyond, a server's early requests go untold; memory stays bounded.
 */
export const MAX_EARLY_SERVERS = 16;

/**
 * Watches for requests served before carbonscope tracks them (the application's `listen()`
 * before `start()` and `trackRequests()`): such requests are in no figure, and nothing else would
 * say so. Each server is remembered at its first request, until a tracking that covers it begins
 * and tells of it, or until it closes (a test's stub, served before the start: no later tracking
 * could miss its requests). The watch ends once a tracking covers every server: until then each
 * request costs one call (a comparison where its server is the last one seen, remembered or
 * covered; two lookups for another); after, nothing.
 */
export class EarlyRequestWatch {
  /** Each server remembered and its first request's time (performance.now). */
  private readonly early = new Map<Server, number>();
  /** Servers a tracking covers: their requests are no longer early. */
  private readonly covered = new WeakSet<object>();
  /**
   * The last server remembered, or the last covered one asked about: its later requests pass at
   * one comparison. A service's one tracked server (trackRequests({ servers })) paid two hash
   * lookups a request here for the life of the process.
   */
  private last: Server | undefined;
  private subscribed = false;
  /** A tracking covers every server: nothing is watched again, nor told. */
  private over = false;
  private readonly onRequest = (message: unknown) => this.seen(message);
  /** Each remembered or covered server's `close` listener, one for all: Node calls it with it. */
  private readonly onClose: (this: Server) => void;

  constructor() {
    const forget = (server: Server) => this.forget(server);
    this.onClose = function (this: Server) {
      forget(this);
    };
  }

  /** Whether a request would reach it now (one call per request while true). */
  get watching(): boolean {
    return this.subscribed;
  }

  watch(): void {
    if (this.subscribed || this.over) return;
    this.subscribed = true;
    subscribe(REQUEST_START, this.onRequest);
  }

  /**
   * Says once, through `logger`, as a tracking begins, that servers it covers (every one where
   * `servers` is absent) served requests before it and still listen: how long before, and how to
   * track them. The watch goes on for the servers it leaves out, and ends once one covers all.
   */
  tell(logger: Logger | undefined, servers: ReadonlySet<object> | undefined): void {
    if (this.over) return;
    let firstMs = Number.POSITIVE_INFINITY;
    for (const [server, atMs] of this.early) {
      if (servers !== undefined && !servers.has(server)) continue;
      this.forget(server);
      server.off('close', this.onClose);
      if (server.listening) firstMs = Math.min(firstMs, atMs);
    }
    if (servers === undefined) {
      this.over = true;
      this.stopWatching();
    } else {
      for (const server of servers) this.cover(server);
    }
    if (logger && firstMs !== Number.POSITIVE_INFINITY) {
      logger.warn(earlyRequestsText(performance.now() - firstMs));
    }
  }

  private seen(message: unknown): void {
    const { server } = message as { server: Server };
    if (server === this.last || this.over) return;
    if (this.early.has(server)) return;
    if (this.covered.has(server)) {
      this.last = server;
      return;
    }
    // A scrape of the application's OTel Prometheus exporter is no request of its own.
    if (this.early.size >= MAX_EARLY_SERVERS || isPrometheusExporterServer(server)) return;
    this.early.set(server, performance.now());
    this.last = server;
    server.once('close', this.onClose);
  }

  private stopWatching(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    unsubscribe(REQUEST_START, this.onRequest);
  }

  /**
   * A tracking covers `server`: let go at each close, if it is `last` by then (see seen). Not
   * once: a closed server can listen again, covered still, and be `last` again.
   */
  private cover(server: object): void {
    if (this.covered.has(server)) return;
    this.covered.add(server);
    if (server instanceof EventEmitter) server.on('close', this.onClose);
  }

  /** `server` closed, or was told of: no longer remembered. */
  private forget(server: Server): void {
    this.early.delete(server);
    if (this.last === server) this.last = undefined;
  }
}

/**
 * The one line of EarlyRequestWatch.tell. register and the instrumentation track from their
 * start on, before the power sources are probed: only a tracking begun late meets it (a server
 * that listened before them, an application's own trackRequests()).
 */
export function earlyRequestsText(agoMs: number): string {
  const ago = agoMs < 1000 ? `${Math.round(agoMs)} ms` : elapsedText(agoMs);
  return `HTTP requests were served before carbonscope began tracking them (the first ${ago} before): they are in no request's figure; begin tracking before the server listens (await start() then cs.trackRequests(), or await instrumentation.ready())`;
}

/** What every copy of the package asks of the process's watch, whichever copy made it. */
type SharedWatch = Pick<EarlyRequestWatch, 'watch' | 'tell'>;

const KEY = Symbol.for('carbonscope.early-requests.v1');
const holder = globalThis as { [KEY]?: SharedWatch };

/**
 * The process's watch (its thread's), one for every copy of the package, on globalThis: a copy's
 * own would not know that another's tracking (register's) began, and tell of requests it counted.
 */
const processWatch: SharedWatch = holder[KEY] ?? setHidden(holder, KEY, new EarlyRequestWatch());

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
