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
