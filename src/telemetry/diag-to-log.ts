import type { DiagLogger } from '@opentelemetry/api';
import type { Logger as WarningLogger } from 'carbonscope';

/**
 * The SDK's diag lines into the service's log, each at its level (VERBOSE as debug, the log's
 * lowest), tagged as the SDK's: pino writes JSON to stdout, and the console's diag logger put
 * plain text beside it. The lines come formatted and masked (maskingDiagLogger).
 */
export function diagToLog(logger: WarningLogger): DiagLogger {
  const fields = { component: 'otel-sdk' };
  return {
    error: (message) => logger.error(fields, message),
    warn: (message) => logger.warn(fields, message),
    info: (message) => logger.info(fields, message),
    debug: (message) => logger.debug(fields, message),
    verbose: (message) => logger.debug(fields, message),
  };
}
