// The application's own OpenTelemetry SDK, with carbonscope as one of its instrumentations.
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { CarbonscopeInstrumentation, stop, withCurrentGauges } from 'carbonscope';

const sdk = new NodeSDK({
  metricReaders: [
    // A gauge exports only what it observes now: the grid's fallback series leaves at recovery.
    withCurrentGauges(
      sdkMetrics,
      // localhost:9464 unless the variables say: exporter-prometheus 0.30x reads neither itself.
      new PrometheusExporter({
        host: process.env.OTEL_EXPORTER_PROMETHEUS_HOST || 'localhost',
        port: Number(process.env.OTEL_EXPORTER_PROMETHEUS_PORT) || 9464,
      }),
    ),
  ],
  instrumentations: [new CarbonscopeInstrumentation()],
});
sdk.start();
// carbonscope's last sample first: it settles the requests since the one before, and the SDK's
// shutdown then exports them. Run once: a signal can come twice (Ctrl-C under npm, a SIGTERM to
// the process group), and a second sdk.shutdown() resolves at once, before the first's export.
let stopping;
const shutdown = () =>
  (stopping ??= stop()
    .then(() => sdk.shutdown())
    .finally(() => process.exit(0)));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
