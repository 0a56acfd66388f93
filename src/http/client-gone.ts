import type { Context } from 'koa';

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

/**
 * A signal that aborts, with a ClientGoneError, when the request's connection closes before its
 * response has been written: work for an answer nobody will read (an LLM call that spends the
 * upstream's quota) can then stop. A response that finished closes too, and aborts nothing.
 */
export function clientGoneSignal(ctx: Context): AbortSignal {
  const controller = new AbortController();
  const res = ctx.res;
  const gone = () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  };
  if (res.closed || res.destroyed) gone();
  else res.once('close', gone);
  return controller.signal;
}
