import { executionAsyncId } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Socket } from 'node:net';
import {
  type ActiveOperation,
  close,
  type OperationClass,
  type OperationKind,
  type OperationTracker,
  type TrackedOperation,
} from '../energy/index.js';
import type { Logger } from '../log.js';
import { nodeHttp } from '../node-http.js';
import { tellEarlyRequests } from './early-requests.js';
import { isPrometheusExporterServer } from './exporter-server.js';
import {
  installRouteResolvers,
  nameHapiRoutesIfLoaded,
  nameKoaRoutesIfLoaded,
  warnIfHapiUnreached,
  warnIfKoaUnreached,
} from './frameworks/index.js';
import { trackHttp2Streams } from './http2-streams.js';
import { lookUp, nodeShaped } from './look-up.js';
import { namedRoute } from './named-route.js';
import { type Opened, OpenRequest } from './open-request.js';
import { OpenRequests } from './open-requests.js';
import { attributesOf, reserveAttributes } from './request-attributes.js';
import { httpFactsReader } from './request-facts.js';
import { nodeShapedRequest, reserveRoute, UNMATCHED_ROUTE } from './route.js';
import { warnUntrackedRequests } from './untracked-runtime.js';

const RESPONSE_PROTOTYPE = nodeHttp.ServerResponse.prototype;

/** Node publishes these for every request of every `node:http` server (Node 18.7+). */
const REQUEST_START = 'http.server.request.start';
const RESPONSE_FINISH = 'http.server.response.finish';

/** The name a request runs under until its route template is known, at its end. */
export const REQUEST_OPERATION = 'request';

interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
  server: Server;
}

/** A server whose requests can be tracked: `node:http`'s, `node:https`'s or `node:http2`'s. */
export type TrackableServer = Server | Http2Server | Http2SecureServer;

export interface RequestTrackingOptions {
  /**
   * Only requests of these servers are tracked (a service that also runs, say, a mock upstream
   * in the same process); every server of the process when absent.
   */
  servers?: readonly TrackableServer[];
  /**
   * The methods `http.request.method` names; any other is `_OTHER`. RFC 9110's and PATCH when
   * absent (OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS through Carbonscope.trackRequests).
   */
  knownMethods?: readonly string[];
  /**
   * Have each request capture its context (ActiveOperation.captureContext) when its handler
   * starts, where a tracing instrumentation has made the request's span active: one more
   * `request` listener per server. Carbonscope sets it when its tracker captures contexts. A
   * function says whether a context can be active now: asked at a server's first request and,
   * while it says no, at each sweep, so that until an SDK registers a context manager the
   * requests pay nothing for it.
   */
  captureContext?: boolean | (() => boolean);
  /** Where a warning goes (Carbonscope.trackRequests gives its own logger); none without it. */
  logger?: Logger;
}

export interface RequestTracking {
  /** Requests begun and not yet ended. */
  readonly inFlight: number;
  /**
   * Ends the operations of responses that were closed without finishing and not ended when their
   * connection closed, or whose connection is gone (one pipelined behind another, which Node 20
   * never closes: Node publishes no finish for them), and names the others by their route if one
   * is known yet. Called on every meter sample, before the tracker settles the interval.
   */
  sweep(): void;
  /** Leaves this server's requests out from now on (carbonscope's own /metrics server). */
  ignore(server: TrackableServer): void;
  /**
   * Called as a collection of the metrics begins: the request whose `request` listener runs it
   * (a scrape of the application's own Prometheus exporter, on a server of its own) is left
   * out, uncounted, as carbonscope's own endpoint is.
   */
  leaveOutScrape(): void;
  /**
   * The operation of the HTTP/1 request `res` answered, once it ended; undefined while it runs
   * and for a response not tracked (an HTTP/2 stream's included). `res` may be a framework's
   * object around the response; a request that leads to none is told to `onRequest`, then
   * undefined.
   */
  endedOperation(res: object, onRequest: () => void): ActiveOperation | undefined;
  /** Stops tracking; requests in flight end now. */
  stop(): void;
}

/** A tracker that can forget an operation it began (EnergyTracker). */
export interface DiscardingTracker extends OperationTracker {
  /** Whether it forgot it (see EnergyTracker.discard). */
  discard(op: ActiveOperation): boolean;
  /** begin() of an operation of the caller's class (see EnergyTracker.beginAs). */
  beginAs<T extends TrackedOperation>(
    Operation: OperationClass<T>,
    operation: string,
    kind: OperationKind,
  ): T;
}

/**
 * Tracks every incoming HTTP request of the process as one operation, whatever framework serves
 * it, from Node's own diagnostics channels: no middleware, no patching of `http`. The operation
 * is named by its route template when a framework (or `setRoute`) named one, else `unmatched`.
 */
export function trackHttpRequests(
  tracker: DiscardingTracker,
  options: RequestTrackingOptions = {},
): RequestTracking {
  installRouteResolvers();
  warnUntrackedRequests(options.logger);
  const servers = options.servers ? new Set<object>(options.servers) : undefined;
  tellEarlyRequests(options.logger, servers);
  const ignored = new WeakSet<object>();
  const open = new OpenRequests();
  const factsOf = httpFactsReader(options.knownMethods);
  // Servers given a `request` listener that captures the request's context.
  const capturing = new Set<Server>();
  const onRequest = (_req: IncomingMessage, res: ServerResponse) =>
    open.peek(res)?.captureContext();
  const contextActive =
    typeof options.captureContext === 'function'
      ? options.captureContext
      : () => options.captureContext === true;
  // Servers that capture nothing yet because no context could be active: asked at each sweep.
  const waiting = new Set<Server>();
  // The server of the last request, already capturing or waiting: one comparison per request.
  let lastCaptureServer: Server | undefined;
  const capture = (server: Server) => {
    capturing.add(server);
    server.on('request', onRequest);
  };
  // A server that closed is let go, and found again if it listens: held until stop(), a process
  // that makes a server per test (a test runner under register) kept each, with all it held;
  // kept as the last one asked about, it was held until another server's request.
  const seen = new Set<Server>();
  function forget(this: Server) {
    seen.delete(this);
    capturing.delete(this);
    waiting.delete(this);
    this.off('request', onRequest);
    if (lastCaptureServer === this) lastCaptureServer = undefined;
    if (lastServer === this) lastServer = undefined;
  }
  // Asked only when the server differs from the last request's.
  const remember = (server: Server) => {
    if (seen.has(server)) return;
    seen.add(server);
    server.once('close', forget);
    // Left out before any collection of carbonscope's could tell its scrapes (see there).
    if (isPrometheusExporterServer(server)) ignored.add(server);
  };
  // Asked at a server's first request (an HTTP/2 server's first stream): before it reaches the
  // application, a Koa or hapi loaded since carbonscope loaded is found, or said unreached.
  const findFrameworks = (server: Server | Http2Server | Http2SecureServer) => {
    // Before the warning: a Koa loaded by now is the one reached, not one left unreached.
    nameKoaRoutesIfLoaded();
    warnIfKoaUnreached(server);
    nameHapiRoutesIfLoaded();
    warnIfHapiUnreached(server);
  };
  // The last server asked about and the answer: a process serves from one server or two, and
  // a set and a weak set asked per request are two hash lookups where one comparison does.
  let lastServer: Server | undefined;
  let lastTracked = false;
  const tracked = (server: Server) => {
    if (server !== lastServer) {
      lastServer = server;
      remember(server);
      findFrameworks(server);
      lastTracked = !(servers && !servers.has(server)) && !ignored.has(server);
    }
    return lastTracked;
  };

  // The last request started and the execution it started in: Node emits `request` in that
  // same execution, so a collection that runs there is that request's (a scrape). Held until
  // it ends, so that a collection later in that execution finds no request to leave out.
  let lastStarted: ServerResponse | undefined;
  let startedIn = -1;
  // `status` only for a response that finished, or whose head went before its connection closed:
  // one whose client went away before any head delivered none, whatever the framework's default
  // (Koa's 404, Node's 200) or a head written to the closed socket says.
  // Asked only at a response's end: `res` may be a framework's wrapper (see lookUp).
  const sentStatus = (res: ServerResponse) =>
    nodeShaped(res, RESPONSE_PROTOTYPE) ? res.statusCode : lookUp<number>(res, 'statusCode');
  const end = (entry: Opened, status?: number) => {
    // However it ends (finished, its client gone, at the sweep, at stop): kept, it held its
    // response, socket and server until the next request began.
    if (entry.res === lastStarted) lastStarted = undefined;
    // Not routeOf: its check of a caller's argument is no cost for Node's own request to pay.
    const { req } = entry;
    // Asked once for both reads: under Express, Object.getPrototypeOf of its reshaped request
    // falls to V8's runtime (perf).
    const shaped = nodeShapedRequest(req);
    const route = namedRoute(req, shaped) ?? UNMATCHED_ROUTE;
    close(entry, route, status, entry.http, attributesOf(req, shaped));
    entry.release();
  };
  // A response whose client left ends when its connection closes, not at the next sweep, which
  // would make its duration up to a sample interval too long. One listener per connection, not
  // per response (see OpenRequests: per-request costs are what this file avoids). Node keeps
  // the response whose turn it is on the socket; one pipelined behind it is left to the sweep.
  const watched = new WeakSet<Socket>();
  // A response whose head went before its client left (a Server-Sent Events stream the browser
  // closed) delivered its status: counted with it, as OTel's http instrumentation does, and no
  // error of the server's (semconv's error.type). Read at the close: a head written later, to
  // the closed socket, delivered nothing. One the server destroyed with an error (a body piped
  // from a cursor that threw) delivered a cut-off body, no answer: none, as OTel's error.type.
  const onConnectionClose = function (this: Socket & { _httpMessage?: ServerResponse | null }) {
    const res = this._httpMessage;
    if (!res || res.writableFinished) return;
    const entry = open.take(res);
    if (entry) end(entry, res.headersSent && !res.errored ? sentStatus(res) : undefined);
  };
  const watch = (socket: Socket | null) => {
    if (!socket || watched.has(socket)) return;
    watched.add(socket);
    socket.once('close', onConnectionClose);
  };
  const onStart = (message: unknown) => {
    const { request, response, server } = message as ServerMessage;
    if (!tracked(server)) return;
    reserveRoute(request);
    reserveAttributes(request);
    watch(request.socket);
    // The method as it arrived (an app may rewrite it to route: method-override), read while
    // the request is still Node's own and every request alike (see lookUp).
    const entry = tracker.beginAs(OpenRequest, REQUEST_OPERATION, 'request');
    open.add(entry, request, response, factsOf(request));
    lastStarted = response;
    startedIn = executionAsyncId();
    if (options.captureContext && server !== lastCaptureServer) {
      lastCaptureServer = server;
      if (!capturing.has(server) && !waiting.has(server)) {
        // Node emits `request` right after publishing the start, inside the instrumentation's
        // context for this request; a listener added now runs for this request too.
        if (contextActive()) capture(server);
        else waiting.add(server);
      }
    }
  };
  const onFinish = (message: unknown) => {
    const { response } = message as ServerMessage;
    // Asked once for both reads: the check is a call into V8's runtime.
    const plain = nodeShaped(response, RESPONSE_PROTOTYPE);
    const entry = open.take(response, plain);
    if (entry) end(entry, plain ? response.statusCode : lookUp<number>(response, 'statusCode'));
  };
  subscribe(REQUEST_START, onStart);
  subscribe(RESPONSE_FINISH, onFinish);
  // HTTP/2 has no such channels on Node 20: its servers' streams are tracked apart (see there).
  const streams = trackHttp2Streams(tracker, {
    servers,
    knownMethods: options.knownMethods,
    operation: REQUEST_OPERATION,
    logger: options.logger,
    captureContext: options.captureContext,
    serverServes: findFrameworks,
  });

  return {
    get inFlight() {
      return open.size + streams.inFlight;
    },
    ignore(server) {
      ignored.add(server);
      lastServer = undefined;
      streams.ignore(server);
    },
    leaveOutScrape() {
      if (lastStarted === undefined || executionAsyncId() !== startedIn) return;
      const res = lastStarted;
      lastStarted = undefined;
      // Taken only once forgotten: one the tracker keeps must still end, or it ran for ever.
      const entry = open.peek(res);
      if (entry && tracker.discard(entry)) open.take(res);
    },
    endedOperation(res, onRequest) {
      return open.endedOf(res, onRequest);
    },
    sweep() {
      // A framework the app loads from inside a server that already served (a lazy import in
      // its listener) is found here, for that server's later requests: one lookup a sample.
      nameKoaRoutesIfLoaded();
      nameHapiRoutesIfLoaded();
      if (waiting.size > 0 && contextActive()) {
        for (const server of waiting) capture(server);
        waiting.clear();
      }
      open.forEach((entry) => {
        // A response pipelined behind another has no socket yet, and Node 20 never closes it
        // when the connection goes: its request's socket tells that its client left.
        if (entry.res.destroyed || entry.res.closed || entry.req.socket?.destroyed) {
          open.take(entry.res);
          end(entry);
          return;
        }
        const route = namedRoute(entry.req);
        if (route !== undefined) entry.rename(route);
      });
      streams.sweep();
    },
    stop() {
      unsubscribe(REQUEST_START, onStart);
      unsubscribe(RESPONSE_FINISH, onFinish);
      for (const server of capturing) server.off('request', onRequest);
      for (const server of seen) server.off('close', forget);
      seen.clear();
      capturing.clear();
      waiting.clear();
      // Its close no longer watched, a server kept here was held as long as the tracking.
      lastCaptureServer = undefined;
      lastServer = undefined;
      open.forEach((entry) => {
        open.take(entry.res);
        end(entry);
      });
      streams.stop();
    },
  };
}
