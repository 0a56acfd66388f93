export { clientGoneSignal } from './client-gone.js';
export { charsetOf, mediaTypeProblem, refuseDifferingContentTypes } from './content-type.js';
export { sendContinue } from './continue.js';
export { reportEarlyAnswers } from './early-answers.js';
export { envelope } from './envelope.js';
export { escapesDecode } from './form-escapes.js';
export { listenFailure, listenUrl } from './listen-messages.js';
export { queryParam } from './query-param.js';
export { notePathRoute, noteRoute, routeTemplate } from './route-of.js';
export { sameOriginWrites } from './same-origin.js';
export { answerInFlight, createHttpServer } from './server.js';
export { answerServerOptions, serviceMethods } from './server-options.js';
export {
  appDone,
  markCutByShutdown,
  SHUTDOWN_CUT_MESSAGE,
  ShutdownCutError,
} from './shutdown-cut.js';
export {
  clientError,
  codePoints,
  firstCodePoints,
  firstCodeUnits,
  HttpError,
  maskedTarget,
  pathMayHoldCredentials,
  wellFormed,
  withBidiShown,
} from './text/index.js';
export { understoodTransferCodings } from './transfer-coding.js';
export { BodyBytes } from './utf8-body.js';
export { writesOnly } from './writes-only.js';
