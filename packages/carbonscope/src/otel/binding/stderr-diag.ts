import type { DiagLogger } from '@opentelemetry/api';

/**
 * A diag logger that writes each line, at every level, to stderr as it is given. Where the
 * console's (DiagConsoleLogger) sends INFO and DEBUG to stdout and VERBOSE as console.trace, a
 * stack each line: the SDK's diagnostics are no output of the application, whose stdout may be
 * a pipe of JSON logs.
 */
export function stderrDiagLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
): DiagLogger {
  const line = (message: string): void => write(`${message}\n`);
  return { error: line, warn: line, info: line, debug: line, verbose: line };
}
