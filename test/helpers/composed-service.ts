import { createTestMetrics, type TestMetrics } from '#library-tests/helpers/metrics.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { reportEarlyAnswers } from '../../src/http/early-answers.js';
import { Readiness } from '../../src/readiness.js';
import { type AssembledService, assembleService } from '../../src/service.js';
import { type Listening, listen, waitUntilReady } from './app.js';
import { captureLogger } from './log.js';

export interface ComposedService extends Listening {
  service: AssembledService;
  metrics: TestMetrics;
  stop(): Promise<void>;
}

/**
 * The service as src/service.ts composes it, in-process, on the estimate source (no network):
 * what a browser test drives. `env` adds to or overrides the settings.
 */
export async function startComposedService(env: Record<string, string>): Promise<ComposedService> {
  const config = loadConfig({ ENERGY_SOURCE: 'estimate', ...env });
  const metrics = createTestMetrics();
  const { logger } = captureLogger('warn');
  const readiness = new Readiness();
  const service = await assembleService({
    config,
    logger,
    meter: metrics.meter,
    metricsText: metrics.scrape,
    readiness,
    tracing: false,
  });
  await waitUntilReady(readiness);
  const listening = await listen(createApp(service.deps), {
    onEarlyAnswer: reportEarlyAnswers(logger, service.carbonscope),
  });
  service.carbonscope.trackRequests({ servers: [listening.server] });
  return {
    ...listening,
    service,
    metrics,
    stop: async () => {
      for (const part of service.parts) await part.close();
    },
  };
}

/** A started service as the browser tests hold it. */
export interface StoppableService {
  close(): Promise<void>;
  stop(): Promise<void>;
  metrics: { shutdown(): Promise<void> };
}

/** Stops a service a test started: its listener, its parts, then its metrics; none, nothing. */
export async function stopService(service: StoppableService | undefined): Promise<void> {
  if (!service) return;
  await service.close();
  await service.stop();
  await service.metrics.shutdown();
}
