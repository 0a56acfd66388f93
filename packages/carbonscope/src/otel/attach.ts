import { metrics } from '@opentelemetry/api';
import type { Logger } from '../log.js';
import type { Carbonscope } from '../runtime/carbonscope.js';
import type { Env } from '../settings.js';
import { VERSION } from '../version.js';
import { type BindMetricsOptions, bindMetrics } from './bind-metrics.js';
import { MissingSdkError } from './optional-sdk.js';
import { hasGlobalMeterProvider, startOwnProvider } from './own-provider.js';
import { SCOPE } from './scope.js';

export const SCOPE_NAME = SCOPE.name;

export interface Attached {
  /** `global` joined the application's SDK, `own` started one, `none` records nothing. */
  mode: 'global' | 'own' | 'none';
  /** Detaches the instruments and, for `own`, flushes and stops the provider. */
  shutdown(): Promise<void>;
}

/**
 * Gives carbonscope's figures to OpenTelemetry: when the application registered a meter
 * provider, carbonscope's instruments join it; otherwise carbonscope starts one as the standard
 * OTEL_* variables say, when the SDK packages are installed (they are optional peers).
 */
export async function attachToOtel(
  cs: Carbonscope,
  env: Env,
  logger: Logger,
  options: BindMetricsOptions = {},
): Promise<Attached> {
  if (hasGlobalMeterProvider()) {
    const detach = bindMetrics(metrics.getMeter(SCOPE_NAME, VERSION), cs, options);
    return { mode: 'global', shutdown: async () => detach() };
  }
  let own: Awaited<ReturnType<typeof startOwnProvider>>;
  try {
    own = await startOwnProvider(env, logger);
  } catch (err) {
    if (!(err instanceof MissingSdkError)) throw err;
    logger.warn(`metrics are not exported: ${err.message}`);
    return { mode: 'none', shutdown: async () => undefined };
  }
  if (!own) return { mode: 'none', shutdown: async () => undefined };
  for (const server of own.servers) cs.ignoreServer(server);
  const detach = bindMetrics(metrics.getMeter(SCOPE_NAME, VERSION), cs, {
    ...options,
    histograms: own.histograms,
  });
  logger.info(`metrics exported by carbonscope's own SDK: ${own.exporters.join(', ')}`);
  return {
    mode: 'own',
    shutdown: async () => {
      // The provider's last push collects from the instruments: they are detached after it,
      // or the push would carry nothing (detaching also forgets the local histograms).
      await own.shutdown();
      detach();
    },
  };
}
