import { metrics } from '@opentelemetry/api';
import type { Logger } from '../log.js';
import type { Env } from '../settings.js';
import { importAll, importSdk, otlpMetricExporter, PROMETHEUS } from './optional-sdk.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type Reader = import('@opentelemetry/sdk-metrics').IMetricReader;

/** What `OTEL_METRICS_EXPORTER` asks for; the spec's default is `otlp`. */
export function metricsExporters(env: Env): string[] {
  const raw = env.OTEL_METRICS_EXPORTER?.trim() || 'otlp';
  return [...new Set(raw.split(',').map((e) => e.trim().toLowerCase()))].filter(Boolean);
}

function positive(env: Env, name: string, fallback: number): number {
  const value = Number(env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function readerFor(
  exporter: string,
  env: Env,
  sdk: SdkMetrics,
  logger: Logger,
): Promise<Reader | undefined> {
  const periodic = (exp: import('@opentelemetry/sdk-metrics').PushMetricExporter) =>
    new sdk.PeriodicExportingMetricReader({
      exporter: exp,
      exportIntervalMillis: positive(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000),
      exportTimeoutMillis: positive(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000),
    });
  switch (exporter) {
    case 'prometheus': {
      const [prometheus] = await importAll<[typeof import('@opentelemetry/exporter-prometheus')]>(
        [PROMETHEUS],
        'OTEL_METRICS_EXPORTER=prometheus',
      );
      // Host and port: OTEL_EXPORTER_PROMETHEUS_HOST/_PORT, read by the exporter (spec: 9464).
      return new prometheus.PrometheusExporter({}, (err) => {
        if (err) logger.error({ err: err.message }, 'Prometheus exporter could not listen');
      });
    }
    case 'otlp':
      return periodic(await otlpMetricExporter(env, 'OTEL_METRICS_EXPORTER=otlp'));
    case 'console':
      return periodic(new sdk.ConsoleMetricExporter());
    default:
      logger.warn(`OTEL_METRICS_EXPORTER: unknown exporter "${exporter}" ignored`);
      return undefined;
  }
}

export interface OwnProvider {
  exporters: string[];
  /** Pushes what is pending and stops the readers. */
  shutdown(): Promise<void>;
}

/**
 * Starts a meter provider configured by the standard OTel variables (OTEL_METRICS_EXPORTER,
 * OTEL_EXPORTER_PROMETHEUS_*, OTEL_EXPORTER_OTLP_*, OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) and registers it as the global one. For a process
 * that has no SDK of its own; `none` starts nothing.
 */
export async function startOwnProvider(env: Env, logger: Logger): Promise<OwnProvider | undefined> {
  const exporters = metricsExporters(env);
  if (exporters.includes('none')) return undefined;
  const [sdk, resources] = await importSdk(`OTEL_METRICS_EXPORTER=${exporters.join(',')}`);
  const readers: Reader[] = [];
  for (const exporter of exporters) {
    const reader = await readerFor(exporter, env, sdk, logger);
    if (reader) readers.push(reader);
  }
  if (readers.length === 0) return undefined;
  const resource = resources
    .defaultResource()
    .merge(await resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(provider);
  return { exporters, shutdown: () => provider.shutdown() };
}

/** True when the application (or an earlier --import) registered a real meter provider. */
export function hasGlobalMeterProvider(): boolean {
  return metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider';
}
