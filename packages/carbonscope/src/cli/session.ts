import { randomUUID } from 'node:crypto';
import { settlesWithin } from '../deadline.js';
import type { ProcessCpuReader } from '../energy/index.js';
import { type Logger, redactSecrets, stderrLogger } from '../log.js';
import { bindMetrics } from '../otel/bind-metrics.js';
import { importSdk, otlpMetricExporter } from '../otel/optional-sdk.js';
import { Carbonscope } from '../runtime/carbonscope.js';
import { type Env, loadSettings, type Settings, SettingsError } from '../settings.js';
import { credentialsOf, withoutCredentials } from '../url-credentials.js';
import { type CommonOptions, UsageError } from './args.js';

/** The OTLP/HTTP metrics URL: a bare endpoint gets the standard `/v1/metrics` path. */
export function otlpMetricsUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/metrics';
  return url.toString();
}

/**
 * How long the last push may take, retries included: a collector that never answers would
 * otherwise add the exporter's own timeouts and retries (about 18 s) to every run.
 */
export const PUSH_TIMEOUT_MS = 3_000;

/** A meter provider whose periodic reader pushes to --otlp; the SDK is loaded only for this. */
async function otlpProvider(
  endpoint: string,
  env: Env,
  attributes: Record<string, string>,
  intervalMs: number,
) {
  const [sdk, resources] = await importSdk('--otlp');
  const exporter = await otlpMetricExporter(
    env,
    '--otlp',
    otlpMetricsUrl(endpoint),
    PUSH_TIMEOUT_MS,
  );
  return new sdk.MeterProvider({
    resource: resources.resourceFromAttributes(attributes),
    readers: [
      new sdk.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs }),
    ],
  });
}

export interface Session {
  config: Settings;
  logger: Logger;
  /** The command's (or the machine's) carbonscope. */
  meter: Carbonscope;
  runId: string;
  /** Host CPU busy share averaged over the samples so far, 0..100; null before any sample. */
  cpuUtilizationPercent(): number | null;
  /** Pushes the last metrics (when --otlp) and releases the OTel provider. */
  close(): Promise<void>;
}

export interface SessionOptions {
  options: CommonOptions;
  env: Env;
  /** What the process scope measures (the command's tree for `run`). */
  processCpu: ProcessCpuReader;
  /** Sampling interval when neither --interval nor ENERGY_SAMPLE_INTERVAL_MS says. */
  defaultIntervalMs?: number;
}

/** The settings with --zone in place of CARBON_ZONE, so it is checked by the same rules. */
function loadWithZone(options: CommonOptions, env: Env): Settings {
  if (options.zone === undefined) return loadSettings(env);
  try {
    return loadSettings({ ...env, CARBON_ZONE: options.zone });
  } catch (err) {
    if (err instanceof SettingsError && err.variable === 'CARBON_ZONE') {
      throw new UsageError(`--zone: ${err.message.slice('CARBON_ZONE: '.length)}`);
    }
    throw err;
  }
}

function cliConfig(options: CommonOptions, env: Env, defaultIntervalMs?: number): Settings {
  const config = loadWithZone(options, env);
  const intervalMs =
    options.intervalMs ??
    (env.ENERGY_SAMPLE_INTERVAL_MS ? config.energy.sampleIntervalMs : defaultIntervalMs) ??
    config.energy.sampleIntervalMs;
  return {
    ...config,
    energy: {
      ...config.energy,
      source: options.source ?? config.energy.source,
      sampleIntervalMs: intervalMs,
    },
  };
}

/**
 * Everything a CLI measurement needs, built from the service's own settings (CARBON_ZONE,
 * ELECTRICITY_MAPS_API_KEY, PUE, ENERGY_*) with the command-line options on top. Throws
 * SettingsError for a bad setting.
 */
export async function openSession(o: SessionOptions): Promise<Session> {
  const config = cliConfig(o.options, o.env, o.defaultIntervalMs);
  const verbose = o.options.verbose;
  const logger = stderrLogger({ level: verbose ? 'info' : 'warn', fields: verbose });
  const runId = randomUUID();
  const provider = o.options.otlp
    ? await otlpProvider(
        o.options.otlp,
        o.env,
        {
          'service.name': o.env.OTEL_SERVICE_NAME || 'carbonscope-cli',
          'carbonscope.project_name': o.options.projectName,
          'carbonscope.run_id': runId,
        },
        Math.max(config.energy.sampleIntervalMs, 1000),
      )
    : undefined;
  const meter = await Carbonscope.create({ settings: config, logger, processCpu: o.processCpu });
  // Only --otlp exports anything: the run's figures go out through the same instruments.
  if (provider) bindMetrics(provider.getMeter('carbonscope'), meter);
  let busyMs = 0;
  let sampledMs = 0;
  meter.onSample((s) => {
    busyMs += s.hostUtilization * s.elapsedMs;
    sampledMs += s.elapsedMs;
  });
  return {
    config,
    logger,
    meter,
    runId,
    cpuUtilizationPercent: () => (sampledMs > 0 ? (busyMs / sampledMs) * 100 : null),
    async close() {
      const url = o.options.otlp;
      if (!provider || url === undefined) return;
      let failure: string | undefined;
      const pushed = provider.forceFlush().catch((err: unknown) => {
        failure = err instanceof Error ? err.message : String(err);
      });
      if (!(await settlesWithin(pushed, PUSH_TIMEOUT_MS))) {
        failure = `no answer within ${PUSH_TIMEOUT_MS / 1000} s`;
      }
      if (failure !== undefined) {
        // The URL may carry user:password (basic auth to the collector); the log must not.
        const reason = redactSecrets(failure, credentialsOf(url));
        logger.error(
          `could not push metrics to ${withoutCredentials(url)} within ${PUSH_TIMEOUT_MS / 1000} s: ${reason}; this run's metrics were not delivered`,
        );
        // No shutdown: the reader's would push once more and hold the exit as long again.
        return;
      }
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/**
 * Starts the meter and resolves once its baseline is set (not after the first sample, a whole
 * interval later): whatever starts after this is inside the measured window.
 */
export function startMeter(meter: Carbonscope): Promise<void> {
  return meter.start();
}
