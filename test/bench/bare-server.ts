/**
 * The baseline of the overhead benchmark: the app without carbonscope (bare-app.ts). With a
 * trace exporter configured it first starts the app's OTel SDK the way src/server.ts does (the
 * ESM hook, then the SDK, then the app's modules), so OTel's own instrumentation cost can be told
 * apart from carbonscope's. Run by run.ts as its own process: PORT, HOST, LOG_LEVEL, OTEL_*.
 */
import { register } from 'node:module';
import { startTelemetry, tracingEnabled } from '../../src/telemetry/sdk.js';

if (tracingEnabled(process.env)) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  await startTelemetry({ otlpMetricsEnabled: false });
}
await import('./bare-app.js');
