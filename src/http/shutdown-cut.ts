import type { ServerResponse } from 'node:http';

/** What the shutdown answers a request it cut before any answer had begun. */
export const SHUTDOWN_CUT_MESSAGE =
  'the service is shutting down: the request was cut before its answer; send it again';

/**
 * The shutdown cut the request at the end of its drain: the server's doing, not the client's,
 * so a 503 (what the client was answered, if no answer had begun), not a 499. Exposed: the
 * reason is the client's to know.
 */
export class ShutdownCutError extends Error {
  readonly status = 503;
  readonly expose = true;
  readonly code = 'unavailable';
  constructor() {
    super('the shutdown cut the request');
    this.name = 'ShutdownCutError';
  }
}

/** Responses the shutdown cut: their close is not their client's leaving. */
const cutByShutdown = new WeakSet<ServerResponse>();

/** Marks `res` as cut by the shutdown, before its connection is answered or closed. */
export function markCutByShutdown(res: ServerResponse): void {
  cutByShutdown.add(res);
}

/** Whether the shutdown cut `res` (its request line says so, at warn). */
export function wasCutByShutdown(res: ServerResponse): boolean {
  return cutByShutdown.has(res);
}

/** Responses whose request the app is handling: from the envelope's start to its line. */
const inApp = new WeakSet<ServerResponse>();
/** What waits for the app to be done with a request: see appDone. */
const waiting = new WeakMap<ServerResponse, () => void>();

/** The app (its envelope) has begun to handle the request of `res`. */
export function appBegins(res: ServerResponse): void {
  inApp.add(res);
}

/** The app is done with the request of `res`: its line is logged. */
export function appEnds(res: ServerResponse): void {
  inApp.delete(res);
  waiting.get(res)?.();
}

/**
 * Resolves once the app is done with the request of `res` (at once if it is not handling it).
 * The shutdown waits for those it cut: the app learns of a cut when the connection closes, and
 * writes the request's line after that; a process that exits first writes none.
 */
export function appDone(res: ServerResponse): Promise<void> {
  if (!inApp.has(res)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(res, resolve));
}
