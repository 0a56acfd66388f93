// What the app writes about a request: its error answers and their quoting, the logged path, the
// target with its credentials masked. No koa and no node:http at load: the telemetry, started
// before koa and http are imported so that they can be patched (server.ts), takes these alone.

export {
  answerUnrouted,
  clientError,
  errorAnswer,
  errorBody,
  HttpError,
  withBidiShown,
} from './errors.js';
export { maskedTarget, pathMayHoldCredentials } from './masked-target.js';
export { codePoints, firstCodePoints, firstCodeUnits, wellFormed } from './quote.js';
export { logEarlyAnswer, logRequest, markClientCaused } from './request-log.js';
export { targetPathStart } from './request-target.js';
