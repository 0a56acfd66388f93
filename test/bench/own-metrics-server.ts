/**
 * The whole service (src/service.ts: grid, meter, dashboard, classifier, LLM, every route and
 * carbonscope's own metrics middleware) with a plain OTel MeterProvider and Prometheus reader,
 * but without the NodeSDK and its auto-instrumentations (no http/koa/undici patching, no
 * context manager, no spans). Splits the overhead between carbonscope's own telemetry and the
 * OTel auto-instrumentation. Run by run.ts as its own process; settings from the environment.
 */
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { loadConfig } from '../../src/config.js';
import { runService } from '../../src/service.js';

const prometheus = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [prometheus] });
// As src/telemetry/sdk.ts serializes: without the otel_scope_* labels.
const serializer = new PrometheusSerializer('', false, undefined, false, true);

await runService(loadConfig(process.env), {
  meter: provider.getMeter('carbonscope'),
  metricsText: async () => serializer.serialize((await prometheus.collect()).resourceMetrics),
  otlpMetrics: false,
  tracing: false,
  shutdown: () => provider.shutdown(),
});
