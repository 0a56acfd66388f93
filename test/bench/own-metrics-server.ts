/**
 * The whole service (src/service.ts: grid, meter, dashboard, classifier, LLM, every route and
 * carbonscope's own metrics middleware) with a plain OTel MeterProvider and Prometheus reader,
 * but without the NodeSDK and its auto-instrumentations (no http/koa/undici patching, no
 * context manager, no spans). Splits the overhead between carbonscope's own telemetry and the
 * OTel auto-instrumentation. Run by run.ts as its own process; settings from the environment.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { loadConfig } from '../../src/config.js';
import { runService } from '../../src/service.js';

const prometheus = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [prometheus] });

await runService(loadConfig(process.env), {
  meter: provider.getMeter('carbonscope'),
  metricsHandler: prometheus.getMetricsRequestHandler.bind(prometheus),
  otlpMetrics: false,
  tracing: false,
  shutdown: () => provider.shutdown(),
});
