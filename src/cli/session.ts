import { randomUUID } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { DestinationStream } from 'pino';
import { type Config, ConfigError, type Env, loadConfig, secretsOf } from '../config.js';
import { settlesWithin } from '../deadline.js';
import { createEnergyMeter, type EnergyMeter, type ProcessCpuReader } from '../energy/index.js';
import { selectSources } from '../energy/sources/select.js';
import { createGridIntensity } from '../grid/index.js';
import { createLogger, type Logger } from '../logger.js';
import { type CommonOptions, UsageError } from './args.js';

/** pino lines made readable on stderr: `carbonscope: <message>` (fields only when verbose). */
function stderrDestination(verbose: boolean): DestinationStream {
  return {
    write(line: string) {
      try {
        const {
          msg,
          level,
          time: _t,
          pid: _p,
          hostname: _h,
          ...rest
        } = JSON.parse(line) as {
          msg?: string;
          level?: number;
          [key: string]: unknown;
        };
        const tag =
          typeof level === 'number' && level >= 50 ? 'error: ' : level === 40 ? 'warning: ' : '';
        const extra = verbose && Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        process.stderr.write(`carbonscope: ${tag}${msg ?? ''}${extra}\n`);
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

/** The OTLP/HTTP metrics URL: a bare endpoint gets the standard `/v1/metrics` path. */
export function otlpMetricsUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/metrics';
  return url.toString();
}

/**
 * The service's OTLP exporter (protobuf, or JSON per OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL) aimed
 * at --otlp. Imported only when --otlp is given: the telemetry module and its exporters are slow
 * to load.
 */
async function otlpExporter(endpoint: string, env: Env): Promise<PushMetricExporter> {
  const sdk = await import('../telemetry/sdk.js');
  return sdk.otlpExporter(env, otlpMetricsUrl(endpoint), PUSH_TIMEOUT_MS);
}

/**
 * How long the last push may take, retries included: a collector that never answers would
 * otherwise add the exporter's own timeouts and retries (about 18 s) to every run.
 */
export const PUSH_TIMEOUT_MS = 3_000;

export interface Session {
  config: Config;
  logger: Logger;
  meter: EnergyMeter;
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
function loadWithZone(options: CommonOptions, env: Env): Config {
  if (options.zone === undefined) return loadConfig(env);
  try {
    return loadConfig({ ...env, CARBON_ZONE: options.zone });
  } catch (err) {
    if (err instanceof ConfigError && err.variable === 'CARBON_ZONE') {
      throw new UsageError(`--zone: ${err.message.slice('CARBON_ZONE: '.length)}`);
    }
    throw err;
  }
}

function cliConfig(options: CommonOptions, env: Env, defaultIntervalMs?: number): Config {
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
 * ConfigError for a bad setting.
 */
export async function openSession(o: SessionOptions): Promise<Session> {
  const config = cliConfig(o.options, o.env, o.defaultIntervalMs);
  const verbose = o.options.verbose;
  const logger = createLogger({
    level: verbose ? 'info' : o.env.LOG_LEVEL ? config.logLevel : 'warn',
    destination: stderrDestination(verbose),
    secrets: secretsOf(config),
  });
  const runId = randomUUID();
  const readers = o.options.otlp
    ? [
        new PeriodicExportingMetricReader({
          exporter: await otlpExporter(o.options.otlp, o.env),
          exportIntervalMillis: Math.max(config.energy.sampleIntervalMs, 1000),
        }),
      ]
    : [];
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: o.env.OTEL_SERVICE_NAME || 'carbonscope-cli',
      'carbonscope.project_name': o.options.projectName,
      'carbonscope.run_id': runId,
    }),
    readers,
  });
  const otelMeter: Meter = provider.getMeter('carbonscope');
  const grid = createGridIntensity({ config, logger, meter: otelMeter });
  const sources = await selectSources({ config, logger });
  const meter = createEnergyMeter({
    config,
    logger,
    meter: otelMeter,
    grid,
    sources,
    processCpu: o.processCpu,
  });
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
      if (readers.length > 0) {
        let failure: string | undefined;
        const pushed = provider.forceFlush().catch((err: unknown) => {
          failure = err instanceof Error ? err.message : String(err);
        });
        if (!(await settlesWithin(pushed, PUSH_TIMEOUT_MS))) {
          failure = `no answer within ${PUSH_TIMEOUT_MS / 1000} s`;
        }
        if (failure !== undefined) {
          logger.error(
            `could not push metrics to ${o.options.otlp} within ${PUSH_TIMEOUT_MS / 1000} s: ${failure}; this run's metrics were not delivered`,
          );
          // No shutdown: the reader's would push once more and hold the exit as long again.
          return;
        }
      }
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/**
 * Starts the meter and resolves once its baseline is set (not after the first sample, a whole
 * interval later): whatever starts after this is inside the measured window.
 */
export function startMeter(meter: EnergyMeter): Promise<void> {
  return meter.start();
}
