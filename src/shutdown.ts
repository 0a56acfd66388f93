import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { settlesWithin } from 'carbonscope';
import { answerInFlight, appDone, markCutByShutdown, SHUTDOWN_CUT_MESSAGE } from './http/index.js';
import type { Logger } from './logger.js';

/** Compose's default stop grace is 10 s; the whole shutdown fits in this, with a margin. */
export const SHUTDOWN_GRACE_MS = 9_000;
/** The part of it in-flight requests get to finish; the rest is for parts and the final flush. */
export const DRAIN_MS = 5_000;
/** How often idle connections are closed while draining (a response just ended leaves one). */
const IDLE_SWEEP_MS = 100;
/**
 * How long the 503s of the requests cut at the drain's end get to leave, and the app to write
 * their lines, out of the grace.
 */
const CUT_ANSWER_MS = 1_000;
/**
 * How long a restarted service takes to answer again, in whole seconds: ready under 2 s after
 * spawn (the bench's start-up budget; 1.1 s measured), the model's load included.
 */
export const RESTART_S = 2;

/**
 * The Retry-After of a cut request: the process is gone by the end of its grace, `leftMs` from
 * now, and a restart (compose's `unless-stopped`, an orchestrator's) answers RESTART_S later.
 * An upper bound, so that a client that waits as told does not meet the stopping server again.
 */
export function retryAfterSeconds(leftMs: number): number {
  return Math.ceil(Math.max(0, leftMs) / 1000) + RESTART_S;
}

/**
 * Resolves after the event loop's next poll phase: the check phase that runs after this one's
 * poll (setImmediate) schedules a second, which runs only once another poll has read what the
 * sockets hold.
 */
function pastNextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** What the cut does with one response of a connection: see planCut. */
type Fate = 'answer503' | 'destroy' | 'lost' | 'deliver';

interface Cut {
  res: ServerResponse;
  fate: Fate;
  /** For a 503: answers the app finished are queued behind it, which its close would lose. */
  keepOpen: boolean;
}

/**
 * What the cut does with each response of a connection's `line` (in the order they are written):
 * one the app finished goes as it is when its turn comes; one whose answer has not begun is
 * answered 503, keeping the connection open only for a finished one queued behind it; one whose
 * answer has begun loses its connection, and with it all behind it (`lost`), as do those behind
 * a 503 that closes.
 */
function planCut(line: ServerResponse[]): Cut[] {
  const lastFinished = line.findLastIndex((res) => res.writableEnded);
  let open = true;
  return line.map((res, i): Cut => {
    if (!open) return { res, fate: 'lost', keepOpen: false };
    if (res.writableEnded) return { res, fate: 'deliver', keepOpen: false };
    open = i < lastFinished && !res.headersSent;
    return { res, fate: res.headersSent ? 'destroy' : 'answer503', keepOpen: open };
  });
}

/**
 * Cuts `res` on `socket`, its turn come: answered 503 with a Retry-After (`Connection: close`
 * unless `keepOpen`) where no answer has begun, else its connection closed. One the app finished
 * since the plan goes as it is.
 */
function cutAtTurn(
  res: ServerResponse,
  socket: Socket,
  keepOpen: boolean,
  retryAfterS: number,
): void {
  if (res.writableEnded) return;
  if (res.headersSent) {
    socket.destroy();
    return;
  }
  const headers = { 'retry-after': String(retryAfterS) };
  answerInFlight(res, socket, 503, SHUTDOWN_CUT_MESSAGE, { headers, keepOpen });
}

/**
 * Cuts what the drain left running, as `planCut` says (a 503 is what a client of a draining
 * server expects: it may send it again elsewhere); one pipelined behind another when its turn
 * comes (Node gives it its socket then). Each cut is marked first: the app's work for it is
 * aborted as the shutdown's cut, not as its client's leaving.
 */
function cutInFlight(plan: Cut[], retryAfterS: number): void {
  // All marked before any is answered: a 503's close loses those pipelined behind it.
  for (const { res, fate } of plan) if (fate !== 'deliver') markCutByShutdown(res);
  for (const { res, fate, keepOpen } of plan) {
    if (fate !== 'answer503' && fate !== 'destroy') continue;
    const { socket } = res;
    if (socket) cutAtTurn(res, socket as Socket, keepOpen, retryAfterS);
    else res.once('socket', (turn: Socket) => cutAtTurn(res, turn, keepOpen, retryAfterS));
  }
}

/**
 * Cuts `res`, which arrived after the cut was planned (its head was still arriving), unless the
 * app answers it at once: marked, and answered 503 with `Connection: close` at its turn, as the
 * plan would have. Unmarked, it was lost with its connection, and the app took that for its
 * client's leaving.
 */
function cutLate(
  res: ServerResponse,
  retryAfterS: () => number,
  logged: Array<Promise<void>>,
): void {
  // After the app's listener, which runs after this one, and the promises it settles at once.
  setImmediate(() => {
    if (res.writableEnded) return;
    markCutByShutdown(res);
    // Its line comes after its connection closes, as a planned cut's: awaited as theirs are.
    logged.push(appDone(res));
    const { socket } = res;
    if (socket) cutAtTurn(res, socket as Socket, false, retryAfterS());
    else res.once('socket', (turn: Socket) => cutAtTurn(res, turn, false, retryAfterS()));
  });
}

/** How many of `plan` fared one of `fates`, finished by the app or (by default) not. */
const count = (plan: Cut[], fates: Fate[], finished = false) =>
  plan.filter((c) => fates.includes(c.fate) && c.res.writableEnded === finished).length;

export interface Closable {
  name: string;
  close(): Promise<void>;
}

export interface ShutdownOptions {
  server: Server;
  /** Closed in this order once the server has drained (or the drain time is up). */
  parts: Closable[];
  /** The final metric export, last: bounded by what is left of the grace period. */
  flush: Closable;
  logger: Logger;
  graceMs?: number;
  drainMs?: number;
  /** process.exit by default; tests pass their own. */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /** Starts the shutdown (once; a later call says it is under way); resolves when exit has been called. */
  stop(signal: string): Promise<void>;
}

/**
 * Graceful shutdown within a fixed grace period:
 * 1. each connection's last response not yet sent (after any pipelined behind the one being
 *    answered), and every request that arrives from then on, carries `Connection: close`, so
 *    keep-alive clients leave after their answers instead of being reset later; after one more
 *    poll of the event loop (which reads requests already sent) the server stops accepting and
 *    idle connections are closed (and again as responses end);
 * 2. in-flight requests get up to `drainMs` to finish, then whatever is left is cut: answered
 *    503 where no answer had begun (its Retry-After: what is left of the grace plus RESTART_S;
 *    the connection kept for answers the app finished that are queued behind it), else closed;
 *    the 503s, and the app's line of each cut request, get up to a second;
 * 3. the parts close (LLM mock, dashboard, model, meter: a last sample);
 * 4. the final metric export gets what is left of `graceMs`; past that the process exits anyway
 *    and says that the metrics since the last export are lost.
 */
export function installShutdown(options: ShutdownOptions): Shutdown {
  const { server, logger } = options;
  const graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
  const drainMs = Math.min(options.drainMs ?? DRAIN_MS, graceMs);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  // Connections, not responses: a listener per response was ~2 µs of every request; one per
  // connection is paid once per keep-alive client. Node keeps a connection's response in flight
  // on the socket (the one whose turn it is to be written; pipelined ones queue behind it).
  const connections = new Set<Socket>();
  // Responses pipelined behind the one whose turn it is, which Node keeps out of reach (the
  // socket holds only that one): a Connection: close on any but the last loses them.
  const pipelined = new WeakMap<Socket, ServerResponse[]>();
  let stopping: Promise<void> | undefined;

  // The responses the drain gave Connection: close, so that it takes back only its own.
  const closing = new WeakSet<ServerResponse>();
  const closeAfterAnswer = (res: ServerResponse) => {
    if (res.headersSent) return;
    res.setHeader('Connection', 'close');
    closing.add(res);
  };
  const keepOpenAfterAnswer = (res: ServerResponse) => {
    if (res.headersSent || !closing.delete(res)) return;
    res.removeHeader('Connection');
  };
  // Node gives a response its socket when its turn comes: one without is still behind another,
  // unless sent (Node takes the socket back then).
  const waitingTurn = (socket: Socket) =>
    (pipelined.get(socket) ?? []).filter((res) => res.socket === null && !res.writableFinished);
  /** A connection's responses not yet written, in the order they will be. */
  const inLine = (socket: Socket) => {
    const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    return res ? [res, ...waitingTurn(socket)] : [];
  };
  /** Closes the connection after the last of `line`, its responses in the order they go. */
  const closeAfterLast = (line: ServerResponse[]) => {
    for (const res of line.slice(0, -1)) keepOpenAfterAnswer(res);
    const last = line.at(-1);
    if (last) closeAfterAnswer(last);
  };
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (res.socket !== null) return;
    pipelined.set(req.socket, [...waitingTurn(req.socket), res]);
  });
  const drain = async (started: number): Promise<void> => {
    /** Set once the cut is planned: the Retry-After of a request cut then. */
    let cutting: (() => number) | undefined;
    /** The app's lines of requests cut as they arrived after the plan. */
    const lateLogged: Array<Promise<void>> = [];
    // One that arrives from now on (on a kept-alive connection) is answered, then closed too,
    // and one pipelined behind those answered before it (read at the next poll) is answered
    // too: before the application's listener, which may answer at once. Before the listener
    // that queues it as pipelined, too: a queued `res` is added here. One that arrives after
    // the cut was planned is cut as well.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      if (cutting) cutLate(res, cutting, lateLogged);
      const line = inLine(req.socket);
      closeAfterLast(line.includes(res) ? line : [...line, res]);
    });
    // The last in line: the connection closes after it, not before those pipelined behind.
    for (const socket of connections) closeAfterLast(inLine(socket));
    // A request already in a kept-alive connection's socket buffer is read at the next poll;
    // until then Node counts that connection idle, and close() would reset it, request and all.
    await pastNextPoll();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Kept through the cut: a connection whose last answer kept it alive is idle after it.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    sweep.unref();
    if (!(await settlesWithin(closed, drainMs))) {
      const plan = [...connections].flatMap((socket) => planCut(inLine(socket)));
      // Before the cut: the requests' own lines (503, cut by the shutdown) follow this one.
      logger.warn(
        {
          cut: count(plan, ['answer503', 'destroy', 'lost']),
          answered503: count(plan, ['answer503']),
          // Their lines said what the app answered, but the client never gets it.
          answersLost: count(plan, ['lost'], true),
          drainMs,
        },
        'requests still running at the end of the drain were cut: answered 503 where no answer had begun',
      );
      cutting = () => retryAfterSeconds(graceMs - (performance.now() - started));
      cutInFlight(plan, cutting());
      // The app learns of a cut as its connection closes, and logs the request after it.
      const logged = Promise.all(plan.map(({ res }) => appDone(res)));
      // A late one arrives on a connection still open, so all are cut once every one closed.
      const allLogged = Promise.all([closed, logged]).then(() => Promise.all(lateLogged));
      if (!(await settlesWithin(allLogged, CUT_ANSWER_MS))) {
        server.closeAllConnections();
      }
    }
    clearInterval(sweep);
  };

  const run = async (signal: string, started: number): Promise<void> => {
    logger.info({ signal, graceMs }, 'shutting down');
    await drain(started);
    for (const part of [...options.parts, options.flush]) {
      const left = graceMs - (performance.now() - started);
      const done = part
        .close()
        .catch((err: unknown) =>
          logger.warn({ err, part: part.name }, 'part failed to close cleanly'),
        );
      if (!(await settlesWithin(done, Math.max(0, left)))) {
        logger.warn(
          { part: part.name, graceMs },
          part === options.flush
            ? 'final metric export did not finish within the grace period: metrics since the last export are lost'
            : 'part did not close within the grace period',
        );
        break;
      }
    }
    logger.info({ ms: Math.round(performance.now() - started) }, 'stopped');
    logger.flush();
    exit(0);
  };

  return {
    stop(signal) {
      if (stopping) {
        logger.info({ signal, graceMs }, 'already shutting down: it ends within its grace');
        return stopping;
      }
      stopping = run(signal, performance.now());
      return stopping;
    },
  };
}
