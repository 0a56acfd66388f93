// `node --import carbonscope/register app.js`: carbonscope in any Node service with no code.
// The meter starts with automatic source selection, every incoming HTTP request is tracked by
// its route template, and the figures go out through the application's OTel SDK or, if it has
// none, one configured by the standard OTEL_* variables. Nothing here may stop the application:
// a failure is one line on stderr and the application runs unmetered.
import { installRouteResolvers } from './http/frameworks/index.js';
import { attachToOtel } from './otel/attach.js';
import { captureSpan, contextPropagates, releaseHeldSpans } from './otel/spans.js';
import { atDefaultStop, startDefault, stopDefault } from './runtime/default.js';
import { defaultLogger } from './runtime/default-logger.js';

const logger = defaultLogger(process.env);
// Now, while the application's modules are still to load: Fastify 4 tells of each instance only
// as it is built, and the meter starts later.
installRouteResolvers();

async function register(): Promise<void> {
  const cs = await startDefault({
    // Nothing here holds the process: a short script must end as it would without carbonscope,
    // however long nvidia-smi or powermetrics take to answer their probe.
    select: { holdProcess: false },
    logger,
    captureContext: captureSpan,
    contextActive: contextPropagates,
    releaseContexts: releaseHeldSpans,
  });
  cs.trackRequests();
  // The application's SDK, if it has one, is started by the time the first sample is taken
  // (100 ms after start): decide then whether to join it or start one.
  // Without holding the process: a short script must end as it would without carbonscope.
  await cs.meter.firstSample();
  const otel = await attachToOtel(cs, process.env, logger);
  // The last figures are pushed when the application calls stop() (in its own SIGTERM handler,
  // say) or when the process ends by itself. No signal handler here: how the application ends
  // is its own business, and a handler would change it.
  await atDefaultStop(cs, () => otel.shutdown());
  process.once('beforeExit', () => {
    stopDefault().catch((err: unknown) => {
      logger.error(`carbonscope/register: the last push failed: ${String(err)}`);
    });
  });
}

register().catch((err: unknown) => {
  logger.error(
    `carbonscope/register: ${err instanceof Error ? err.message : String(err)}; the application runs unmetered`,
  );
  // Nothing would be exported: stop measuring, so the application's requests pay nothing for it.
  stopDefault().catch(() => undefined);
});
