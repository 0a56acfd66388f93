import { createServer, type RequestListener, type Server } from 'node:http';

/** The longest the service waits for a whole request (headers and body) to arrive. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface HttpServerOptions {
  requestTimeoutMs?: number;
}

/** Placeholder: a plain server, as the service had (replaced by the fix). */
export function createHttpServer(
  listener: RequestListener,
  _options: HttpServerOptions = {},
): Server {
  return createServer(listener);
}
