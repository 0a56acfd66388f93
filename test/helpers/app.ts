import { once } from 'node:events';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import { type AppDeps, createApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createHttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { Readiness } from '../../src/readiness.js';
import { createTestMetrics, type TestMetrics } from './metrics.js';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Serves a Koa app on an ephemeral loopback port, on the same HTTP server as the service. */
export async function listen(app: Koa, options: HttpServerOptions = {}): Promise<Listening> {
  const server = createHttpServer(app.callback(), options);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A logger whose lines are kept in memory, to assert on what was (and was not) logged. */
export function captureLogger(
  level = 'debug',
  secrets: string[] = [],
): {
  logger: Logger;
  lines: string[];
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level, destination, secrets }), lines };
}

/** Resolves once every start-up task (model, first meter sample) has finished. */
export async function waitUntilReady(readiness: Readiness, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readiness.ready) {
    const { failed } = readiness.status();
    if (Object.keys(failed).length > 0)
      throw new Error(`start-up failed: ${JSON.stringify(failed)}`);
    if (Date.now() > deadline) throw new Error(`not ready: ${JSON.stringify(readiness.status())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface TestApp extends Listening {
  metrics: TestMetrics;
  lines: string[];
  config: Config;
  readiness: Readiness;
}

/** The real app with a private meter and a captured log, plus whatever deps a test adds. */
export async function startTestApp(
  extra: Partial<AppDeps> = {},
  env: Record<string, string> = {},
): Promise<TestApp> {
  const metrics = createTestMetrics();
  const config = loadConfig(env);
  const { logger, lines } = captureLogger();
  const readiness = new Readiness();
  const app = createApp({
    config,
    logger,
    meter: metrics.meter,
    readiness,
    metricsText: metrics.scrape,
    ...extra,
  });
  const listening = await listen(app);
  return {
    ...listening,
    metrics,
    lines,
    config,
    readiness,
    close: async () => {
      await listening.close();
      await metrics.shutdown();
    },
  };
}
