import type { Server } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import {
  bindMetrics,
  Carbonscope,
  captureSpan,
  LIBRARY_VARIABLES,
  type LocalHistograms,
  misspeltVariablesWarning,
  printable,
  releaseHeldSpans,
  shortKeyWarning,
} from 'carbonscope';
import { type AppDeps, createApp, type MetricsText } from './app.js';
import {
  type Config,
  pushIntervalWarning,
  redactConfig,
  SERVICE_VARIABLES,
  secretsOf,
} from './config.js';
import { createDashboard, type Dashboard } from './dashboard/index.js';
import { createHttpServer, listenFailure, listenUrl, reportEarlyAnswers } from './http/index.js';
import { createLlm } from './llm/index.js';
import { createLogger, type Logger } from './logger.js';
import { OnnxActivityClassifier } from './predict/index.js';
import { Readiness } from './readiness.js';
import { type Closable, installShutdown } from './shutdown.js';
import type { Telemetry } from './telemetry/index.js';

function listen(server: Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export interface AssembleOptions {
  config: Config;
  logger: Logger;
  /** The OTel meter every instrument is created on. */
  meter: Meter;
  /** Where carbonscope's histograms are kept (the readers export them); the SDK's when absent. */
  histograms?: LocalHistograms;
  metricsText: MetricsText;
  readiness: Readiness;
  /**
   * Spans are recorded: each operation captures the span active where it began, so its figure
   * lands there. Without tracing nothing is captured (a request listener and a lookup less per
   * request).
   */
  tracing: boolean;
}

export interface AssembledService {
  deps: AppDeps;
  carbonscope: Carbonscope;
  dashboard: Dashboard;
  /** Closed in this order at shutdown, after the server stops accepting. */
  parts: Closable[];
}

/**
 * config → carbonscope (grid → power sources → meter → tracker, the library's one factory) →
 * instruments → dashboard → classifier → LLM. Readiness waits for the meter's first sample and
 * the model's session; everything else is ready when built. Exported so tests compose the
 * service exactly as it runs. Requests are tracked once the HTTP server exists (runService).
 */
export async function assembleService(options: AssembleOptions): Promise<AssembledService> {
  const { config, logger, meter, readiness } = options;
  const carbonscope = await Carbonscope.create({
    settings: config,
    logger,
    captureContext: options.tracing ? captureSpan : undefined,
    releaseContexts: options.tracing ? releaseHeldSpans : undefined,
  });
  bindMetrics(meter, carbonscope, { http: true, histograms: options.histograms });
  readiness.waitFor(
    'meter',
    carbonscope.start().then(() => carbonscope.firstSample()),
  );
  const dashboard = createDashboard({
    meter: carbonscope,
    grid: carbonscope.grid,
    sampleIntervalMs: config.energy.sampleIntervalMs,
  });
  const predict = new OnnxActivityClassifier({
    tracker: carbonscope,
    meter,
    histograms: options.histograms,
  });
  readiness.waitFor('model', predict.load());
  const llm = await createLlm({ config, logger, meter });
  return {
    deps: {
      config,
      logger,
      readiness,
      metricsText: options.metricsText,
      grid: carbonscope.grid,
      energy: carbonscope,
      predict,
      chat: { service: llm.service, tracker: carbonscope },
      dashboard,
    },
    carbonscope,
    dashboard,
    parts: [
      { name: 'llm', close: () => llm.close() },
      { name: 'dashboard', close: async () => dashboard.close() },
      { name: 'model', close: () => predict.close() },
      // A last sample: the instruments stay bound, so telemetry's final export reads it.
      { name: 'meter', close: () => carbonscope.stop() },
    ],
  };
}

export async function runService(config: Config, telemetry: Telemetry): Promise<void> {
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config, process.env) });
  telemetry.warnTo(logger);
  logger.info(
    {
      config: redactConfig(config),
      otlpMetrics: telemetry.otlpMetrics,
      tracing: telemetry.tracing,
    },
    'starting carbonscope',
  );
  // A misspelt variable (ENERGY_SOUCE, LLM_MODLE) is not in effect: said once, by name only.
  const misspelt = misspeltVariablesWarning(process.env, [
    ...LIBRARY_VARIABLES,
    ...SERVICE_VARIABLES,
  ]);
  if (misspelt) logger.warn(misspelt);
  const slowPush = pushIntervalWarning(config);
  if (slowPush) logger.warn(slowPush.fields, slowPush.message);
  const shortLlmKey = shortKeyWarning('LLM_API_KEY', config.llm.apiKey);
  if (shortLlmKey) logger.warn(shortLlmKey);
  const readiness = new Readiness();
  const {
    deps,
    carbonscope,
    parts: serviceParts,
  } = await assembleService({
    config,
    logger,
    meter: telemetry.meter,
    histograms: telemetry.histograms,
    metricsText: telemetry.metricsText,
    readiness,
    tracing: telemetry.tracing,
  });
  const flush: Closable = { name: 'telemetry', close: () => telemetry.shutdown() };
  const app = createApp(deps);
  const http = createHttpServer(app.callback(), {
    onEarlyAnswer: reportEarlyAnswers(logger, carbonscope),
    nameRoute: app.nameRoute,
    allow: app.allow,
  });
  // This server's requests only: the in-process mock LLM's are not the service's work.
  carbonscope.trackRequests({ servers: [http] });
  try {
    await listen(http, config);
  } catch (err) {
    const target = { host: config.host, port: config.port, portVariable: 'PORT' };
    const failure = listenFailure(err as NodeJS.ErrnoException, target);
    process.stderr.write(`carbonscope: ${printable(failure)}\n`);
    for (const part of [...serviceParts, flush]) await part.close().catch(() => {});
    process.exit(1);
  }
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, host: config.host }, `listening on ${listenUrl(config.host, port)}`);
  const shutdown = installShutdown({ server: http, parts: serviceParts, flush, logger });
  // Kept for good, not once: Ctrl-C on `npm start` gives node its SIGINT twice (the terminal's
  // and npm's), and a second one with no listener left killed the service in mid-drain, its
  // last push lost. The shutdown is bounded by its grace; a later signal only says so.
  process.on('SIGTERM', () => void shutdown.stop('SIGTERM'));
  process.on('SIGINT', () => void shutdown.stop('SIGINT'));
}
