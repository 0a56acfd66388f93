import type { Context } from 'koa';
import type { Logger } from '../../logger.js';
import { wellFormed } from './quote.js';
import { loggedPath } from './request-log.js';

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  499: 'client_closed_request',
  500: 'internal_error',
  501: 'not_implemented',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'gateway_timeout',
  505: 'http_version_not_supported',
};

export interface ErrorBody {
  error: string;
  message: string;
}

export function errorBody(status: number, message: string, code?: string): ErrorBody {
  return {
    error: code ?? CODES[status] ?? (status >= 500 ? 'server_error' : 'client_error'),
    message,
  };
}

/** An error whose status and message are meant for the client (the error handler shows them). */
export class HttpError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  code?: unknown;
  message?: unknown;
  type?: unknown;
}

function statusOf(err: HttpLikeError): number {
  const status = Number(err.status ?? err.statusCode);
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/**
 * Bidirectional formatting controls (embeddings, overrides, isolates, marks). A message quotes
 * what the client sent (a zone, a model): one of these in it would reorder the rest of the
 * message wherever it is shown, so a crafted link could make a page's error read otherwise.
 */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The text with each bidi control written as its escape (`\u202e`), so it is seen, not run: in
 * a message, and wherever a page shows back what the client sent (a form's field).
 */
export function withBidiShown(message: string): string {
  return message.replace(
    BIDI_CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Messages raw-body/co-body give are written for developers; say what the client did wrong. A
 * message quoting what a JSON body held (`"\ud800"`) carries its lone surrogates as U+FFFD.
 */
function clientMessage(err: HttpLikeError): string {
  if (err.type === 'entity.parse.failed') return 'request body is not valid JSON';
  if (err.type === 'encoding.unsupported') return 'unsupported request body encoding';
  return typeof err.message === 'string' && err.message
    ? withBidiShown(wellFormed(err.message))
    : 'request failed';
}

export interface ClientError {
  status: number;
  message: string;
  code?: string;
}

/**
 * What the client may be told of an error: its status and message when it is a client error
 * or an exposed server error; undefined when only "internal error" may be said. Routes that
 * answer browsers with a page use it to show the same reason the JSON answer would give.
 */
export function clientError(caught: unknown): ClientError | undefined {
  const err = (caught ?? {}) as HttpLikeError;
  const status = statusOf(err);
  if (status >= 500 && err.expose !== true) return undefined;
  const code = typeof err.code === 'string' && /^[a-z_]+$/.test(err.code) ? err.code : undefined;
  return { status, message: clientMessage(err), code };
}

/**
 * What the router leaves without a body: 404 for an unknown path; 405 (the router's 405, or its
 * 501 for a method it does not implement, such as TRACE or PROPFIND) for a known path, with the
 * methods it does allow.
 */
export function answerUnrouted(ctx: Context): void {
  const path = ctx.path.slice(0, 200);
  const allow = ctx.response.get('Allow');
  if (ctx.status === 404 || (ctx.status === 501 && !allow)) {
    ctx.status = 404;
    ctx.body = errorBody(404, `no route for ${ctx.method} ${path}`);
  } else if (ctx.status === 405 || ctx.status === 501) {
    ctx.status = 405;
    ctx.body = errorBody(405, `${ctx.method} is not allowed on ${path}; allowed: ${allow}`);
  }
}

/**
 * Turns a thrown error into `{error, message}` JSON with the right status. Client errors say
 * what was wrong; server errors say only that something failed (the details, stack included,
 * go to the log, never to the client).
 */
export function errorAnswer(logger: Logger): (ctx: Context, caught: unknown) => void {
  return (ctx, caught) => {
    const err = (caught ?? {}) as HttpLikeError;
    const client = clientError(err);
    if (client) {
      ctx.status = client.status;
      ctx.body = errorBody(client.status, client.message, client.code);
    } else {
      logger.error({ err: caught, path: loggedPath(ctx.path) }, 'request failed');
      ctx.status = statusOf(err);
      ctx.body = errorBody(ctx.status, 'internal error: the failure was logged');
    }
    ctx.set('Cache-Control', 'no-store');
  };
}
