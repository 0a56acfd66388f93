import type { LogFn, Logger } from '../log.js';

/**
 * The push lines of an --otlp session, told until its end: the reader runs on until the process
 * exits (a shutdown would wait for the pushes in flight), and a push answered after the end line
 * had its line after it, read as the end's own.
 */
export class LinesUntilEnd {
  private open = true;

  /** `logger`, telling nothing once end() was called. */
  through(logger: Logger): Logger {
    // Either of LogFn's forms, passed on as it came (pino's methods read `this`).
    const gate = (fn: LogFn): LogFn =>
      ((...args: unknown[]) => {
        if (this.open) Reflect.apply(fn, logger, args);
      }) as LogFn;
    return {
      debug: gate(logger.debug),
      info: gate(logger.info),
      warn: gate(logger.warn),
      error: gate(logger.error),
    };
  }

  end(): void {
    this.open = false;
  }
}
