import { redactionList, redactSecrets } from 'carbonscope';
import { type DestinationStream, type Logger, pino } from 'pino';

export { redactSecrets } from 'carbonscope';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  /** Secret values that must never reach a log line, whatever field they hide in. */
  secrets?: readonly string[];
}

// Explicit paths only: pino compiles them into direct property checks, while wildcards
// (`*.apiKey`) walk every object of every line, a few µs per request line. Secrets that could
// hide anywhere else are caught by the streamWrite hook below, which masks their values.
const SECRET_PATHS = [
  'apiKey',
  'config.grid.apiKey',
  'config.llm.apiKey',
  'headers["auth-token"]',
  'headers.authorization',
  'req.headers["auth-token"]',
  'req.headers.authorization',
];

export function createLogger(options: LoggerOptions): Logger {
  // Built once here (ordered, with the forms JSON escapes): the hook runs for every line.
  const secrets = redactionList(options.secrets ?? []);
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      // An absent key stays absent: a censored value would say a key is set when none is.
      redact: {
        paths: SECRET_PATHS,
        censor: (value) => (value === undefined ? undefined : '[redacted]'),
      },
      // The last line of defence: a secret echoed in an upstream error message is masked
      // before the line is written.
      ...(secrets.length
        ? { hooks: { streamWrite: (line: string) => redactSecrets(line, secrets) } }
        : {}),
    },
    options.destination,
  );
}
