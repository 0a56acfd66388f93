import {
  EXPORT_TIMED_OUT,
  failureOf,
  type PushMetricExporter,
  withResults,
} from '../otel/sdk/index.js';

/**
 * The --otlp pushes sent and not answered yet, and whether any was cut at its deadline: an end
 * that read the latest push's result alone took a push cut before it (which may have reached
 * the collector) as refused where a later one was. Counted here, every push in flight is waited
 * for, not only those the exporter's own forceFlush awaits.
 */
export class PushesInFlight {
  private flying = 0;
  private readonly waiting: Array<() => void> = [];
  /** Whether a push was cut at its deadline (EXPORT_TIMED_OUT): it may have got through. */
  cut = false;

  /** How many pushes went out and have no result yet. */
  get count(): number {
    return this.flying;
  }

  /** `inner`, each of whose exports counts from its start to its result. */
  track(inner: PushMetricExporter): PushMetricExporter {
    const counted = withResults(inner, (result) => {
      if (failureOf(result) === EXPORT_TIMED_OUT) this.cut = true;
      this.landed();
    });
    return {
      ...counted,
      export: (metrics, done) => {
        this.flying += 1;
        try {
          counted.export(metrics, done);
        } catch (err) {
          // Thrown before it went out: no result comes.
          this.landed();
          throw err;
        }
      },
    };
  }

  private landed(): void {
    this.flying -= 1;
    if (this.flying === 0) for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** Resolves once no push is in flight (at once where none is). */
  none(): Promise<void> {
    if (this.flying === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
