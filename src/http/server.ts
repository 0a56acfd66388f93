import {
  createServer,
  type IncomingMessage,
  METHODS,
  type RequestListener,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { holdContinue } from './continue.js';
import { refusedVersion } from './http-version.js';
import { errorBody } from './text/index.js';

/** The longest the service waits for a whole request (headers and body) to arrive. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** The longest it waits for the headers alone. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How long an idle keep-alive connection is kept open. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface HttpServerOptions {
  /** REQUEST_TIMEOUT_MS by default; tests shorten it. */
  requestTimeoutMs?: number;
  /** Told of every answer given before the app saw a request (the service logs and counts them). */
  onEarlyAnswer?: (report: EarlyAnswerReport) => void;
  /**
   * Names the route of a request Node made but the app never saw (a refused Expect), which
   * request tracking counts: the app's ServiceApp.nameRoute. Without it, `unmatched`.
   */
  nameRoute?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * The methods the app's routes take, as an Allow lists them (the app's ServiceApp.allow, what
   * `OPTIONS *` answers): the Allow of a refused CONNECT, which names no path. Without it, empty.
   */
  allow?: string;
}

/**
 * The server's report of an answer it gave before the app saw a request: what the library's
 * EarlyAnswer counts (status, method, seconds), and what only the service's log and its choice
 * to count need (the reason, whether request tracking has the request already).
 */
export interface EarlyAnswerReport {
  status: number;
  /**
   * The method where Node parsed one, else the one the rejected bytes began with: one of the
   * methods Node's parser takes (http.METHODS), never other bytes. Label it before use.
   */
  method: string | undefined;
  /**
   * Why, in a word: the parser's error code (HPE_INVALID_METHOD, ERR_HTTP_REQUEST_TIMEOUT) or
   * the server's own; never the request's bytes, which may hold credentials.
   */
  reason: string;
  /** How long it took, as far as the server knows: 0 for what is answered as it arrives. */
  seconds: number;
  /**
   * Node made a request of it, which request tracking counts already (an Expect refused, a
   * request cut off while the app read it): counted again it would be two.
   */
  counted: boolean;
}

/** What Node's parser rejected, in words for the client. */
function rejection(err: ParserError): { status: number; message: string } {
  if (err.code === 'HPE_INVALID_VERSION') {
    const refused = refusedVersion(err.rawPacket, err.bytesParsed);
    if (refused !== undefined) return { status: 505, message: refused };
  }
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'request headers are larger than the server accepts (16 KB)' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request did not arrive in time' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'chunk extensions are larger than the server accepts' };
    default:
      return { status: 400, message: 'the request is not valid HTTP/1.1' };
  }
}

function jsonResponse(status: number, message: string, extraHeaders = ''): string {
  const body = JSON.stringify(errorBody(status, message));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'X-Content-Type-Options: nosniff\r\n' +
    extraHeaders +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Writes a whole response on a socket no ServerResponse owns, then closes it. */
function endSocket(socket: Duplex, response: string): void {
  socket.end(response);
  // end() only half-closes: a client that keeps sending must not hold the socket.
  socket.once('finish', () => socket.destroy());
}

type Report = (report: EarlyAnswerReport) => void;

/**
 * A server socket as Node keeps it: the response it is writing now, if any, and its parser's
 * request, the last one whose head it parsed, until that request's body has been read.
 */
type ServerSocket = Duplex & {
  _httpMessage?: ServerResponse | null;
  parser?: { incoming?: IncomingMessage | null } | null;
};

/**
 * The request Node made whose body the parser was reading when it failed, and whose response has
 * finished already (the app answered without reading it: a 404, a 405): undefined when the
 * failure is in bytes that follow a whole request, of which Node made none.
 */
function answeredUnread(socket: ServerSocket): IncomingMessage | undefined {
  const incoming = socket.parser?.incoming ?? undefined;
  return incoming?.complete === false ? incoming : undefined;
}

/** What an answer given outside the app carries beyond its status and message. */
export interface AnswerOptions {
  /** Headers of its own (a Retry-After). */
  headers?: Record<string, string>;
  /**
   * Keeps the connection open after it: answers already finished are queued behind it
   * (pipelined), which its close would lose. Closed by default.
   */
  keepOpen?: boolean;
}

/**
 * Writes `{error, message}` JSON on a response, then closes its connection (unless `keepOpen`).
 * Answered outside the app, so without the envelope's headers: nosniff is added here.
 */
function answerJson(
  res: ServerResponse,
  status: number,
  message: string,
  options: AnswerOptions = {},
): void {
  const body = JSON.stringify(errorBody(status, message));
  // Kept on the response, not only sent as writeHead's would be: the app, when it has the
  // request, reads them after (the envelope, Content-Type; Koa 3's get is undefined without).
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('x-content-type-options', 'nosniff');
  for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
  if (!options.keepOpen) res.setHeader('connection', 'close');
  // Named, not left to writeHead: a status the app set first (a 501) left its reason phrase.
  res.writeHead(status, STATUS_CODES[status] ?? '');
  res.end(body);
}

/**
 * Answers the request in flight (the app has it: its body stalled or broke while the app read
 * it, or the shutdown cut it) through its own response, not around it on the socket: Node then
 * publishes the response's finish with this status, so request tracking counts the request
 * once, under its route, with what the client got; and the app, whose own answer Koa drops once
 * a head is sent, logs it.
 */
export function answerInFlight(
  res: ServerResponse,
  socket: Duplex,
  status: number,
  message: string,
  options: AnswerOptions = {},
): void {
  // What the app set before it was cut off is not part of this answer.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  answerJson(res, status, message, options);
  // Node feeds a request no more once its response finished, and never aborts it: an app
  // reading the body would wait forever. Its read fails (aborted) once the socket is gone.
  socket.once('close', () => res.req.destroy());
}

/** What Node's parser says of a request it rejected: the bytes it failed on, among others. */
type ParserError = NodeJS.ErrnoException & { rawPacket?: unknown; bytesParsed?: unknown };

/** The longest method Node's parser takes, and the space after it. */
const METHOD_SPAN = Math.max(...METHODS.map((m) => m.length)) + 1;

/**
 * The method a rejected request began with, where its bytes start with a method Node's parser
 * takes and a space; else undefined. Node parses a method only for a request it makes; a client
 * that sends a bad header would otherwise be `_OTHER` whatever its method. Its bytes start the
 * chunk the parser failed in, unless they `follow` a whole request in it (pipelined, or a body
 * longer than its Content-Length): then after the last head that ended before the failure. Only
 * the method's span is read, and only a known method leaves.
 */
function methodOf(err: ParserError, follow: boolean): string | undefined {
  const { rawPacket, bytesParsed } = err;
  if (!Buffer.isBuffer(rawPacket)) return undefined;
  const headEnd =
    follow && typeof bytesParsed === 'number' && bytesParsed > 0
      ? rawPacket.lastIndexOf('\r\n\r\n', bytesParsed - 1)
      : -1;
  const start = headEnd < 0 ? 0 : headEnd + 4;
  const head = rawPacket.toString('latin1', start, start + METHOD_SPAN);
  const space = head.indexOf(' ');
  const token = space > 0 ? head.slice(0, space) : '';
  return METHODS.includes(token) ? token : undefined;
}

/**
 * Sockets whose parser failed after a whole request still being answered: Node feeds the parser
 * each later chunk, and each fails again, but one answer is enough.
 */
const waiting = new WeakSet<Duplex>();

/**
 * Node answers what its parser rejects (bad request line or header, headers too large, a request
 * that never completes) with a bare status line; this answers it as the app answers every client
 * error, `{error, message}` JSON, when nothing of a response has been written yet. A 408 took at
 * least `timeoutSeconds` (the headers timeout, the shorter of the two that end in one).
 * `followsRequest`: called again once the whole requests before the failure were answered.
 */
function answerClientError(
  err: ParserError,
  socket: Duplex,
  report: Report,
  timeoutSeconds: number,
  followsRequest = false,
): void {
  if (waiting.has(socket)) return;
  const inFlight = (socket as ServerSocket)._httpMessage ?? undefined;
  if (err.code !== 'ECONNRESET' && socket.writable && inFlight?.req.complete) {
    // The failure is in bytes after a whole request (pipelined, or a body longer than its
    // Content-Length): that request's answer, and those queued behind it, go first. Node
    // attaches the next queued one before this one's close; the 400 waits for the last.
    waiting.add(socket);
    inFlight.once('close', () => {
      waiting.delete(socket);
      answerClientError(err, socket, report, timeoutSeconds, true);
    });
    return;
  }
  // Nothing is answered, so nothing is reported: the client is gone, or has an answer begun.
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, message } = rejection(err);
  if (inFlight) answerInFlight(inFlight, socket, status, message);
  else endSocket(socket, jsonResponse(status, message));
  // Request tracking counts a request Node made: answered through its response here, or by the
  // app before its body failed to arrive. Only what came before any request is left to count.
  const made = inFlight?.req ?? answeredUnread(socket as ServerSocket);
  report({
    status,
    method: made ? made.method : methodOf(err, followsRequest),
    reason: err.code ?? 'UNKNOWN',
    seconds: status === 408 ? timeoutSeconds : 0,
    counted: made !== undefined,
  });
}

/**
 * CONNECT asks for a tunnel, which this service (no proxy) does not offer; Node, with no
 * `connect` listener, would close the socket without a word. 405 as for any method the service
 * does not take, with the methods its routes do: `OPTIONS *`'s Allow, from the app (a constant
 * here had said GET, HEAD, POST where `OPTIONS *` said HEAD, GET, POST, OPTIONS).
 */
function refuseConnect(req: IncomingMessage, socket: Duplex, report: Report, allow: string): void {
  // Node has taken its own error listener off a CONNECT's socket: a client's reset would
  // otherwise be an uncaught error that ends the process.
  socket.on('error', () => socket.destroy());
  const allowed = allow === '' ? '' : `; allowed: ${allow}`;
  const message = `CONNECT is not allowed: this service is not a proxy${allowed}`;
  endSocket(socket, jsonResponse(405, message, `Allow: ${allow}\r\n`));
  report({
    status: 405,
    method: req.method,
    reason: 'CONNECT_NOT_ALLOWED',
    seconds: 0,
    counted: false,
  });
}

type NameRoute = NonNullable<HttpServerOptions['nameRoute']>;

/**
 * `Expect:` with anything but 100-continue: 417 as JSON (Node's own answer has no body), counted
 * under the route `nameRoute` names, as the app's own early answers (a 405) are.
 */
function answerExpectation(
  req: IncomingMessage,
  res: ServerResponse,
  report: Report,
  nameRoute: NameRoute,
): void {
  try {
    nameRoute(req, res);
  } catch {
    // Only a label is lost (`unmatched`): thrown here, in Node's parser callback, it would be
    // uncaught and end the process.
  }
  const expectation = String(req.headers.expect).slice(0, 40);
  answerJson(res, 417, `Expect: ${expectation} is not supported; send the request without it`);
  // Node made a request of it (request tracking counts it), but the app never logs it.
  report({
    status: 417,
    method: req.method,
    reason: 'EXPECTATION_NOT_SUPPORTED',
    seconds: 0,
    counted: true,
  });
}

/**
 * The service's HTTP server: bounded time to receive a request (a body that never completes
 * is cut off at REQUEST_TIMEOUT_MS, checked every second rather than Node's 30 s), and JSON
 * answers for what Node rejects before the app sees it, each told to `onEarlyAnswer`.
 */
export function createHttpServer(
  listener: RequestListener,
  options: HttpServerOptions = {},
): Server {
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeout);
  const report = options.onEarlyAnswer ?? (() => {});
  const nameRoute = options.nameRoute ?? (() => {});
  const server = createServer(
    {
      requestTimeout,
      headersTimeout,
      connectionsCheckingInterval: Math.min(1000, requestTimeout / 2),
      // Node answers an HTTP/1.1 request without Host with a bare 400 the app never sees (and no
      // clientError event); the app's envelope refuses it with JSON instead.
      requireHostHeader: false,
    },
    listener,
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', (err: ParserError, socket: Duplex) =>
    answerClientError(err, socket, report, headersTimeout / 1000),
  );
  server.on('checkContinue', holdContinue(server));
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
    answerExpectation(req, res, report, nameRoute),
  );
  server.on('connect', (req: IncomingMessage, socket: Duplex) =>
    refuseConnect(req, socket, report, options.allow ?? ''),
  );
  return server;
}
