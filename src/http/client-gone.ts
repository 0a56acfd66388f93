import type { Socket } from 'node:net';
import type { Context } from 'koa';
import { ShutdownCutError, wasCutByShutdown } from './shutdown-cut.js';

/**
 * The client closed its connection before its answer was written (nginx's 499, "client closed
 * request"). Not the service's fault, so not a 5xx: the request line is at info, and nothing is
 * sent, as there is nobody to send it to.
 */
export class ClientGoneError extends Error {
  readonly status = 499;
  readonly expose = true;
  readonly code = 'client_closed_request';
  constructor() {
    super('the client closed the connection before the answer');
    this.name = 'ClientGoneError';
  }
}

/** What waits on each connection's close: one listener per connection, however many requests. */
const closeWatchers = new WeakMap<Socket, Set<() => void>>();

/**
 * The connection's watchers, its close listener added once. A function of its own: made beside
 * a watcher, the listener's scope held that first request's response for the connection's life.
 */
function watchersOf(socket: Socket): Set<() => void> {
  const known = closeWatchers.get(socket);
  if (known) return known;
  const set = new Set<() => void>();
  socket.once('close', () => {
    for (const watcher of set) watcher();
  });
  closeWatchers.set(socket, set);
  return set;
}

/** Calls `fn` when `socket` closes; returns the function that stops waiting. */
function atClose(socket: Socket, fn: () => void): () => void {
  const watchers = watchersOf(socket);
  watchers.add(fn);
  return () => watchers.delete(fn);
}

/**
 * A signal that aborts, with a ClientGoneError, when the request's connection closes before its
 * response has been written: work for an answer nobody will read (an LLM call that spends the
 * upstream's quota) can then stop. A response that finished closes too, and aborts nothing,
 * unless the shutdown cut it (and answered it 503): that aborts with a ShutdownCutError.
 * The connection is watched as well as the response: Node 20 closes only the response whose
 * turn it is, never one pipelined behind it, which would then wait out its whole call.
 */
export function clientGoneSignal(ctx: Context): AbortSignal {
  const controller = new AbortController();
  const { res } = ctx;
  const socket = ctx.req.socket;
  const gone = () => {
    // The shutdown's 503 finishes the response: its work is still to stop.
    if (wasCutByShutdown(res)) controller.abort(new ShutdownCutError());
    else if (!res.writableFinished) controller.abort(new ClientGoneError());
  };
  if (res.closed || res.destroyed || socket.destroyed) {
    gone();
    return controller.signal;
  }
  const unwatch = atClose(socket, gone);
  res.once('close', () => {
    unwatch();
    gone();
  });
  return controller.signal;
}
