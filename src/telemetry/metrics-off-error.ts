/**
 * What a collection answers when OTEL_SDK_DISABLED=true: NodeSDK then binds no reader, so there
 * is nothing to collect. Its status is for the client (the error handler reads `status` and
 * `expose`), so a scrape gets a 404 that says why, not a 500 with a stack in the log each time.
 */
export class MetricsOffError extends Error {
  readonly status = 404;
  readonly expose = true;

  constructor() {
    super('metrics are off: OTEL_SDK_DISABLED=true turns the OpenTelemetry SDK off, /metrics too');
    this.name = 'MetricsOffError';
  }
}
