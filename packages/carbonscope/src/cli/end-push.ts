import type { ExportResult, PushMetricExporter } from '../otel/sdk/index.js';

/**
 * The --otlp end's own push and its result: the first export that starts once the end began (the
 * reader's forceFlush waits for a push already in flight, then sends the end's). The latest
 * result of any push read a periodic push cut or refused after the end's got through as the
 * end's, which then said `not delivered` of figures the collector had. A periodic push collected
 * before begin() cannot start after it: its collect (sync callbacks, the env resource) ends in the
 * timer's own tick. An async callback or resource would break that: mark the end's by its points.
 */
export class EndPush {
  private begun = false;
  private sent = false;
  /** The end's push's result; undefined until it is answered (or where none went out). */
  result: ExportResult | undefined;

  /** From now, the next export to start is the end's. */
  begin(): void {
    this.begun = true;
  }

  /** Whether the end's push went out: a push that fails after that is carried by none. */
  get gone(): boolean {
    return this.sent;
  }

  /** Whether the end's push went out and has no result yet. */
  get inFlight(): boolean {
    return this.sent && this.result === undefined;
  }

  /** `inner`, whose first export once begin() was called is the end's. */
  mark(inner: PushMetricExporter): PushMetricExporter {
    return {
      ...inner,
      export: (metrics, done) => {
        if (!this.begun || this.sent) {
          inner.export(metrics, done);
          return;
        }
        this.sent = true;
        try {
          inner.export(metrics, (result) => {
            this.result = result;
            done(result);
          });
        } catch (err) {
          // Thrown before it went out: the next export is the end's.
          this.sent = false;
          throw err;
        }
      },
    };
  }
}
