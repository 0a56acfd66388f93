import { routeOf } from 'carbonscope';
import type { Context } from 'koa';
import type { Logger } from '../../logger.js';
import { wasCutByShutdown } from '../shutdown-cut.js';
import { maskedTarget, pathMayHoldCredentials } from './masked-target.js';

/** Requests whose 5xx the client caused: see markClientCaused. */
const clientCaused = new WeakSet<Context>();

/**
 * Logs the request's 5xx at the level of a 4xx: the client asked for what the service does not
 * implement (a transfer coding), which is no fault of the service, and an operator's alerts on
 * error lines are not for a client to set off. Only the log line: the status, and the metrics'
 * `error_type` the conventions give every 5xx, stay what they are.
 */
export function markClientCaused(ctx: Context): void {
  clientCaused.add(ctx);
}

/**
 * One line per request, `start` its performance.now() on arrival. The trace id (`trace_id`) is
 * added by the OTel pino instrumentation, which injects the active span's context into every
 * line logged inside a request.
 */
export function logRequest(logger: Logger, ctx: Context, start: number): void {
  const status = ctx.status;
  // A cut at shutdown is the shutdown's, which warns of it once: no line where alerts look.
  const cut = wasCutByShutdown(ctx.res);
  const level = cut ? 'warn' : status >= 500 && !clientCaused.has(ctx) ? 'error' : 'info';
  // At the services' usual warn level the line is never written: not building it saves its
  // object, the path slice and the route lookup on every request.
  if (!logger.isLevelEnabled(level)) return;
  const line = {
    method: ctx.method,
    path: loggedPath(readPath(ctx)),
    endpoint: routeOf(ctx.req),
    status,
    durationMs: Math.round((performance.now() - start) * 1000) / 1000,
  };
  logger[level](cut ? { ...line, cutBy: 'shutdown' } : line, 'request');
}

/**
 * Koa's path, or '' for an absolute-form target its parser throws on (`http://[/`), which the
 * envelope refused: read raw, it threw the 400 into Koa's bare, unlogged 500.
 */
function readPath(ctx: Context): string {
  try {
    return ctx.path;
  } catch {
    return '';
  }
}

/** The most of a path a line shows. */
const MAX_LOGGED_PATH = 200;

/**
 * The path with the value of each secret-named matrix parameter (`;token=`, `;jsessionid=`) and
 * the userinfo of each URL nested in it written `[redacted]` (maskedTarget); cut to
 * MAX_LOGGED_PATH after, so a cut never leaves half a value. A path that can hold neither
 * (pathMayHoldCredentials) is shown as it came, unparsed.
 */
export function loggedPath(path: string): string {
  const shown = pathMayHoldCredentials(path) ? maskedTarget(path) : path;
  return shown.slice(0, MAX_LOGGED_PATH);
}

/** The `msg` of the line for an answer the server gave before the app saw a request. */
export const EARLY_ANSWER_MSG = 'answered before the app';

/**
 * One line for an answer the server gave before the app saw a request (what Node's parser
 * rejected, a refused CONNECT or Expect), at the level of a request with its status. `method` is
 * the metrics' label, as a client picks any; `reason` a code: the request's own bytes may hold
 * credentials and are never logged.
 */
export function logEarlyAnswer(
  logger: Logger,
  status: number,
  method: string,
  reason: string,
): void {
  // A 505 is the client's protocol, no fault of the service: a 4xx's level, as markClientCaused.
  const level = status >= 500 && status !== 505 ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level]({ method, status, reason }, EARLY_ANSWER_MSG);
}
