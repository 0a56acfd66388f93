import type { RequestListener, Server } from 'node:http';
import { hostPort, listenHost, listenHosts } from '../listen-host.js';
import type { Logger } from '../log.js';
import { nodeHttp } from '../node-http.js';

/** What sets the endpoint's address: named in each line that says it could not listen. */
const VARIABLES = '(OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT)';

/**
 * A host without the address's family (IPv6 off, or no IPv4 loopback): where another address of
 * the endpoint has its family, that one serves, and a line about this one would be said on every
 * start.
 */
const FAMILY_MISSING = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

type ListenError = NodeJS.ErrnoException & { address?: unknown };

/**
 * A server of the endpoint that knows whether it was closed: one whose turn to listen comes
 * after (port 0's second loopback) then never listens, on an endpoint that stopped.
 */
class EndpointServer extends nodeHttp.Server {
  closed = false;

  override close(callback?: (err?: Error) => void): this {
    this.closed = true;
    return super.close(callback);
  }
}

/** One address of the endpoint, and how its listen ended. */
interface Listener {
  readonly host: string;
  readonly server: EndpointServer;
  /**
   * The port its listen asked for (port 0's second loopback asks for the first's), and once it
   * listens the one it serves on.
   */
  port: number;
  /** Undefined until its listen ended; null where it listens (or stopped before its turn). */
  ended?: ListenError | null;
  /**
   * What a line said of it after it listened (tellServingError), each once at most: the code of
   * each error while it served, `stopped` where it found it stopped.
   */
  told?: Set<string>;
}

/**
 * The endpoint's servers on `port` of each address `host` names (listenHosts: `localhost` is both
 * loopbacks), `handler` answering; they never keep the process alive. Port 0 is the OS's choice,
 * told in one line: each address after the first that listened takes its port, so all are one
 * endpoint. What failed is told once every listen ended (tellFailures).
 */
export function listeningEndpoint(
  handler: RequestListener,
  host: string,
  port: number,
  logger: Logger,
): Server[] {
  const named = listenHost(host);
  const listeners: Listener[] = listenHosts(host).map((address) => ({
    host: address,
    server: endpointServer(handler),
    port,
  }));
  const ended = () => {
    if (listeners.every((l) => l.ended !== undefined)) tellFailures(listeners, named, logger);
  };
  if (port === 0) listenInTurn(listeners, 0, { named, logger, ended });
  else for (const listener of listeners) listenOnce(listener, port, logger, ended);
  return listeners.map((l) => l.server);
}

function endpointServer(handler: RequestListener): EndpointServer {
  const server = new EndpointServer(handler);
  // A scraper's connection holds nothing either: kept alive between scrapes closer than the
  // server's 5 s keep-alive timeout (Prometheus at 1 s, an agent, a browser tab), it held a
  // process whose own server had closed at its SIGTERM forever, and a watcher's restart with it.
  server.on('connection', (socket) => socket.unref());
  return server.unref();
}

/** `listener` listening on `port`; `ended` called once it listens or failed. */
function listenOnce(listener: Listener, port: number, logger: Logger, ended: () => void): void {
  const { server } = listener;
  listener.port = port;
  const end = (failure: ListenError | null) => {
    listener.ended = failure;
    // The port it serves on, for a line said later: port 0's is the OS's choice.
    if (failure === null) listener.port = portOf(server) || port;
    ended();
  };
  server.on('error', (err: ListenError) => {
    if (listener.ended === undefined) end(err);
    else if (listener.ended === null) tellServingError(listener, err, logger);
  });
  server.once('listening', () => end(null));
  server.listen(port, listener.host);
}

interface Turns {
  /** The host as the setting names it, for the line that tells the port the OS chose. */
  readonly named: string;
  readonly logger: Logger;
  readonly ended: () => void;
}

/**
 * Port 0: each listener in turn, on the port of the first that listened, or on 0 where none did
 * yet (a host without 127.0.0.1: ::1 serves alone). That port, the OS's choice, is told once.
 */
function listenInTurn(listeners: readonly Listener[], port: number, turns: Turns): void {
  const [listener, ...after] = listeners;
  if (listener === undefined) return;
  if (listener.server.closed) {
    listener.ended = null;
    turns.ended();
    listenInTurn(after, port, turns);
    return;
  }
  listenOnce(listener, port, turns.logger, () => {
    const chosen = port === 0 && listener.ended === null ? portOf(listener.server) : port;
    if (chosen !== port) tellChosenPort(turns.named, chosen, turns.logger);
    turns.ended();
    listenInTurn(after, chosen, turns);
  });
}

function portOf(server: Server): number {
  const address = server.address();
  return address === null || typeof address === 'string' ? 0 : address.port;
}

/**
 * Port 0 is the OS's choice, which nothing else reports: without this line no scraper could be
 * pointed at the endpoint. A warning, as info is below what a user sees by default.
 */
function tellChosenPort(host: string, port: number, logger: Logger): void {
  logger.warn(
    `OTEL_EXPORTER_PROMETHEUS_PORT=0: the Prometheus endpoint is http://${hostPort(host, port)}/metrics, on a port the OS chose (a scraper needs a fixed one)`,
  );
}

/**
 * The listens that failed, once all ended: one line where every address failed alike (another
 * service on the port of both loopbacks: two lines read as two endpoints), else one each, but
 * none for an address whose family the host lacks where another has its own.
 */
function tellFailures(listeners: readonly Listener[], named: string, logger: Logger): void {
  const failed = listeners.flatMap((l) => (l.ended ? [{ listener: l, err: l.ended }] : []));
  const [first] = failed;
  if (first === undefined) return;
  const reason = reasonOf(first.err);
  const alike = failed.every(({ err }) => reasonOf(err) === reason);
  if (failed.length > 1 && failed.length === listeners.length && alike) {
    const each = listeners.map((l) => hostPort(l.host, l.port)).join(' nor ');
    logger.error(
      { err: reason },
      `Prometheus endpoint could not listen on ${hostPort(named, first.listener.port)}, neither ${each} ${VARIABLES}: ${reason}`,
    );
    return;
  }
  const familyHere = listeners.some((l) => !familyMissing(l.ended));
  for (const { listener, err } of failed) {
    if (!familyHere || !familyMissing(err)) tellFailure(listener, err, logger);
  }
}

function familyMissing(ended: ListenError | null | undefined): boolean {
  return FAMILY_MISSING.has(ended?.code ?? '');
}

/**
 * The reason in the text: the stderr logger prints no fields, and a port taken by another service
 * on the host needs the variable that moves it.
 */
function tellFailure(listener: Listener, err: ListenError, logger: Logger): void {
  logger.error(
    { err: err.message },
    `Prometheus endpoint could not listen on ${hostPort(listener.host, listener.port)} ${VARIABLES}: ${err.message}`,
  );
}

/**
 * An error the server emitted after it listened (an accept that failed: Node's server listens
 * on), told as what it is, not a listen that failed: once for each code while the server still
 * listens (an accept fails again at each connection; another code, EMFILE then ENOMEM, is news
 * a user needs, and there are few), and once where it found the server stopped. None after
 * carbonscope closed it.
 */
function tellServingError(listener: Listener, err: ListenError, logger: Logger): void {
  const { server } = listener;
  const serving = server.listening;
  const told = listener.told ?? new Set<string>();
  listener.told = told;
  const what = serving ? `serving ${err.code ?? ''}` : 'stopped';
  if (server.closed || told.has('stopped') || told.has(what)) return;
  told.add(what);
  const at = hostPort(listener.host, listener.port);
  const line = serving
    ? `on ${at}: an error while serving, told once (it still serves)`
    : `on ${at} stopped serving`;
  logger.error({ err: err.message }, `Prometheus endpoint ${line}: ${err.message}`);
}

/** A listen error's reason without the address Node ends its message with. */
function reasonOf(err: ListenError): string {
  const { message, address } = err;
  const at = typeof address === 'string' ? message.lastIndexOf(` ${address}`) : -1;
  return at > 0 ? message.slice(0, at) : message;
}
