/**
 * The baseline for the overhead benchmark: the same Koa middleware and route modules as
 * src/app.ts (request log, error handler, body parser, /healthz, /readyz, /carbon_intensity,
 * /predict) but no telemetry at all: no OTel SDK or instrumentations, no httpMetrics, no energy
 * meter, no request tracking. The classifier gets a tracker that does nothing and the API's
 * no-op meter. Run by run.ts as its own process: PORT, HOST, LOG_LEVEL from the environment.
 */
import { createServer } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { metrics } from '@opentelemetry/api';
import type { OperationFootprint, OperationTracker } from 'carbonscope';
import { createGridIntensity } from 'carbonscope';
import Koa from 'koa';
import { loadConfig } from '../../src/config.js';
import { errorHandler } from '../../src/http/errors.js';
import { requestLog } from '../../src/http/request-log.js';
import { createLogger } from '../../src/logger.js';
import { OnnxActivityClassifier } from '../../src/predict/classifier.js';
import { Readiness } from '../../src/readiness.js';
import { carbonIntensityRoutes } from '../../src/routes/carbon-intensity.js';
import { healthRoutes } from '../../src/routes/health.js';
import { predictRoutes } from '../../src/routes/predict.js';

const noFootprint = (operation: string): OperationFootprint => ({
  operation,
  kind: 'operation',
  durationSeconds: 0,
  joules: 0,
  grams: 0,
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
  measure: async (operation, fn) => ({ result: await fn(), footprint: noFootprint(operation) }),
};

const config = loadConfig(process.env);
const logger = createLogger({ level: config.logLevel });
// No SDK is registered in this process, so this is the API's no-op meter.
const meter = metrics.getMeter('bare');
const readiness = new Readiness();
const classifier = new OnnxActivityClassifier({ tracker: untracked, meter });
readiness.waitFor('model', classifier.load());
const grid = createGridIntensity({ config, logger });

const router = new Router();
router.use(healthRoutes(readiness).routes());
router.use(carbonIntensityRoutes(grid).routes());
router.use(predictRoutes(classifier).routes());

const app = new Koa();
app.silent = true;
app.use(requestLog(logger));
app.use(errorHandler(logger, config.bodyLimitBytes));
app.use(
  bodyParser({
    enableTypes: ['json', 'form'],
    jsonLimit: config.bodyLimitBytes,
    formLimit: config.bodyLimitBytes,
  }),
);
app.use(router.routes());
app.use(router.allowedMethods());

const server = createServer(app.callback());
server.keepAliveTimeout = 5_000;
server.listen(config.port, config.host);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
