import { createServer, type Server } from 'node:http';
import { createApp } from './app.js';
import { type Config, redactConfig, secretsOf } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { Readiness } from './readiness.js';
import type { Telemetry } from './telemetry/sdk.js';

const SHUTDOWN_BUDGET_MS = 9_000;

/** What a failed listen means to the person who started the service. */
export function listenFailure(err: NodeJS.ErrnoException, config: Config): string {
  if (err.code === 'EADDRINUSE') {
    return `port ${config.port} is in use: stop the other process or set PORT`;
  }
  if (err.code === 'EACCES') {
    return `port ${config.port} needs privileges: choose a port above 1023 with PORT`;
  }
  if (err.code === 'EADDRNOTAVAIL') {
    return `address ${config.host} is not available on this machine: set HOST`;
  }
  return `could not listen on ${config.host}:${config.port}: ${err.message}`;
}

function listen(server: Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

interface Closable {
  name: string;
  close(): Promise<void>;
}

/**
 * Stops accepting, lets in-flight requests finish, stops the service's parts, then flushes the
 * metric readers so the collector receives a final export. Bounded so a stuck connection
 * cannot keep the process alive.
 */
function installShutdown(server: Server, parts: Closable[], logger: Logger): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_BUDGET_MS);
    deadline.unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    for (const part of parts) {
      try {
        await part.close();
      } catch (err) {
        logger.warn({ err, part: part.name }, 'part failed to close cleanly');
      }
    }
    clearTimeout(deadline);
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export async function runService(config: Config, telemetry: Telemetry): Promise<void> {
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config) });
  logger.info(
    {
      config: redactConfig(config),
      otlpMetrics: telemetry.otlpMetrics,
      tracing: telemetry.tracing,
    },
    'starting carbonscope',
  );
  const readiness = new Readiness();
  const app = createApp({
    config,
    logger,
    meter: telemetry.meter,
    readiness,
    metricsHandler: telemetry.metricsHandler,
  });
  const http = createServer(app.callback());
  http.keepAliveTimeout = 5_000;
  try {
    await listen(http, config);
  } catch (err) {
    process.stderr.write(`carbonscope: ${listenFailure(err as NodeJS.ErrnoException, config)}\n`);
    await telemetry.shutdown().catch(() => {});
    process.exit(1);
  }
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, host: config.host }, `listening on http://${config.host}:${port}`);
  installShutdown(http, [{ name: 'telemetry', close: () => telemetry.shutdown() }], logger);
}
