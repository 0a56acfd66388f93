// The application's own OpenTelemetry SDK, with carbonscope as one of its instrumentations.
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { CarbonscopeInstrumentation } from 'carbonscope';

const sdk = new NodeSDK({
  // Port 9464 unless OTEL_EXPORTER_PROMETHEUS_PORT says otherwise.
  metricReaders: [
    new PrometheusExporter({ port: Number(process.env.OTEL_EXPORTER_PROMETHEUS_PORT) || 9464 }),
  ],
  instrumentations: [new CarbonscopeInstrumentation()],
});
sdk.start();
process.once('SIGTERM', () => sdk.shutdown().finally(() => process.exit(0)));
