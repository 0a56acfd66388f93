import { type Carbonscope, httpMethodLabel } from 'carbonscope';
import type { Logger } from '../logger.js';
import type { EarlyAnswerReport } from './server.js';
import { logEarlyAnswer } from './text/index.js';

/**
 * Logs and counts each answer the HTTP server gives before the app sees a request (a flood of
 * malformed requests, slowloris 408s, oversized headers), which the app's request log and
 * request tracking would never see: counted in http.server.request.duration with no route, and
 * logged once. One Node made a request of is counted by request tracking already, so only logged.
 */
export function reportEarlyAnswers(
  logger: Logger,
  carbonscope: Pick<Carbonscope, 'answeredEarly' | 'settings'>,
): (answer: EarlyAnswerReport) => void {
  const knownMethods = carbonscope.settings.http.knownMethods;
  return (answer) => {
    if (!answer.counted) {
      carbonscope.answeredEarly(answer.status, {
        method: answer.method,
        seconds: answer.seconds,
      });
    }
    logEarlyAnswer(
      logger,
      answer.status,
      httpMethodLabel(answer.method, knownMethods),
      answer.reason,
    );
  };
}
