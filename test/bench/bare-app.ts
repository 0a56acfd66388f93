/**
 * The app without carbonscope, for the overhead benchmark: createApp, createHttpServer and
 * installShutdown exactly as src/service.ts uses them (request log, security headers, errors,
 * same-origin writes, body parsing, the routes of /healthz, /readyz, /carbon_intensity and
 * /predict with the same ONNX model, the graceful shutdown's tracking of requests in flight),
 * and nothing of carbonscope: no energy meter, no request tracking, no instruments. The
 * classifier gets a tracker that does nothing and the API's meter (a no-op unless bare-server.ts
 * started the app's SDK for a tracing variant). Loaded by bare-server.ts.
 */
import { metrics } from '@opentelemetry/api';
import {
  createGridIntensity,
  type OperationFootprint,
  type OperationTracker,
  sciOf,
} from 'carbonscope';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { OnnxActivityClassifier } from '../../src/predict/classifier.js';
import { Readiness } from '../../src/readiness.js';
import { installShutdown } from '../../src/shutdown.js';

const noFootprint = (operation: string): OperationFootprint => ({
  operation,
  kind: 'operation',
  durationSeconds: 0,
  joules: 0,
  grams: 0,
  embodiedGrams: 0,
  estimated: true,
  provisional: false,
});

const untracked: OperationTracker = {
  begin: (operation) => ({
    end: (name) => noFootprint(name ?? operation),
    run: (fn) => fn(),
    settled: async () => noFootprint(operation),
    rename: () => {},
    captureContext: () => {},
  }),
  track: (_operation, fn) => fn(),
  measure: async (operation, fn) => {
    const footprint = noFootprint(operation);
    return { result: await fn(), footprint, sci: sciOf(footprint) };
  },
};

const config = loadConfig(process.env);
const logger = createLogger({ level: config.logLevel });
const readiness = new Readiness();
const predict = new OnnxActivityClassifier({ tracker: untracked, meter: metrics.getMeter('bare') });
readiness.waitFor('model', predict.load());
const app = createApp({
  config,
  logger,
  readiness,
  metricsText: async () => '',
  grid: createGridIntensity({ config, logger }),
  predict,
});
const server = createHttpServer(app.callback());
server.listen(config.port, config.host);
const shutdown = installShutdown({
  server,
  parts: [{ name: 'model', close: () => predict.close() }],
  flush: { name: 'telemetry', close: async () => {} },
  logger,
});
process.once('SIGTERM', () => void shutdown.stop('SIGTERM'));
