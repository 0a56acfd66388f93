import { once } from 'node:events';
import type { Server } from 'node:http';
import { type Carbonscope, METRICS, prometheusName } from 'carbonscope';
import type Koa from 'koa';
import { createTestMetrics, type TestMetrics } from '#library-tests/helpers/metrics.js';
import { type AppDeps, createApp, type ServiceApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createHttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { Readiness } from '../../src/readiness.js';
import { startEstimatedMeter } from './energy.js';
import { captureLogger } from './log.js';

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves a Koa app on an ephemeral loopback port, on the same HTTP server as the service, which
 * names the routes of requests the app never sees as the service does when the app can.
 */
export async function listen(
  app: Koa | ServiceApp,
  options: HttpServerOptions = {},
): Promise<Listening> {
  const served = 'nameRoute' in app ? { nameRoute: app.nameRoute, allow: app.allow } : {};
  const server = createHttpServer(app.callback(), { ...served, ...options });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      // Closed already (a test of the shutdown): its close event has been and gone.
      if (!server.listening) return;
      server.close();
      await once(server, 'close');
    },
  };
}

/** Resolves once every start-up task (model, first meter sample) has finished. */
export async function waitUntilReady(readiness: Readiness, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!readiness.ready) {
    const { failed } = readiness.status();
    if (Object.keys(failed).length > 0)
      throw new Error(`start-up failed: ${JSON.stringify(failed)}`);
    if (performance.now() > deadline)
      throw new Error(`not ready: ${JSON.stringify(readiness.status())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `http.server.request.duration` as Prometheus names it; its `_count` counts the requests. */
export const HTTP_DURATION = prometheusName(METRICS.httpDuration);

export interface TestApp extends Listening {
  metrics: TestMetrics;
  lines: string[];
  config: Config;
  readiness: Readiness;
}

/**
 * carbonscope tracking the requests of this server only, as the service does, with its
 * instruments (http.server.request.duration, carbonscope.operation.*) on `metrics`.
 */
export async function meterRequests(
  listening: Listening,
  metrics: TestMetrics,
): Promise<Carbonscope> {
  const cs = await startEstimatedMeter(metrics);
  cs.trackRequests({ servers: [listening.server] });
  return cs;
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
    readiness,
    metricsText: metrics.scrape,
    ...extra,
  });
  const listening = await listen(app);
  const carbonscope = await meterRequests(listening, metrics);
  return {
    ...listening,
    metrics,
    lines,
    config,
    readiness,
    close: async () => {
      await listening.close();
      await carbonscope.stop();
      await metrics.shutdown();
    },
  };
}
