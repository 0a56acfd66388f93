import type { Logger } from '../log.js';
import { messageOf } from '../thrown-text.js';

/**
 * What is read of the application's PrometheusExporter (exporter-prometheus 0.2xx and 0.3xx): its
 * public startServer(), and the start it keeps, which startServer() hands back ever after, a
 * failed one too: no public call tries again.
 */
interface ServingExporter {
  startServer(): Promise<void>;
  getMetricsRequestHandler: unknown;
  _startServerPromise?: Promise<void>;
}

/**
 * The readers of an SDK MeterProvider (sdk-metrics 2.x and 3.x keep them so): it lists them
 * nowhere public. Undefined where another provider's insides are not these, or one reader is
 * kept under another name: "none refused" there would leave a port nothing serves unsaid.
 */
function readersOf(provider: unknown): object[] | undefined {
  const state = (provider as { _sharedState?: { metricCollectors?: unknown } } | undefined)
    ?._sharedState;
  const collectors = state?.metricCollectors;
  if (!Array.isArray(collectors)) return undefined;
  const readers = collectors.map(
    (c) => (c as { _metricReader?: unknown } | undefined)?._metricReader,
  );
  return readers.every(isObject) ? readers : undefined;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isServingExporter(reader: unknown): reader is ServingExporter {
  const r = reader as Partial<ServingExporter> | undefined;
  return typeof r?.startServer === 'function' && typeof r.getMetricsRequestHandler === 'function';
}

/** The error its start ended with; undefined where it listens (or was never asked to). */
async function startFailure(exporter: ServingExporter): Promise<unknown> {
  const started = exporter._startServerPromise;
  if (!started) return undefined;
  // Through resolve(): a value of another shape there is no start, not a TypeError here.
  return Promise.resolve(started).then(
    () => undefined,
    (err: unknown) => err ?? new Error('its server did not start'),
  );
}

/** Refused one of `ports`, carbonscope's: one another process holds is none of its doing. */
function refusedAt(err: unknown, ports: readonly number[]): boolean {
  const { code, port } = (err ?? {}) as { code?: unknown; port?: unknown };
  return code === 'EADDRINUSE' && typeof port === 'number' && ports.includes(port);
}

const LATE_FIX =
  "start the application's SDK before it loads anything slow, or give carbonscope another port (OTEL_EXPORTER_PROMETHEUS_PORT for register, the exporter's own `port` in code)";

/**
 * After carbonscope's own Prometheus endpoint closed at the hand-over: the application's
 * exporters that could not listen while it held the port (an SDK started late) are started
 * again, and serve the application's metrics with carbonscope's, as an SDK started first does.
 * One that still cannot is one warning: nothing serves its metrics, nor carbonscope's. False
 * where the provider's readers, or an exporter's start, cannot be read.
 */
export async function restartRefusedExporters(
  provider: unknown,
  ports: readonly number[],
  logger: Logger,
): Promise<boolean> {
  const readers = readersOf(provider);
  if (!readers) return false;
  let read = true;
  for (const reader of readers) {
    if (!isServingExporter(reader)) continue;
    // A declared field in 0.200 to 0.301, undefined until it starts (or never started).
    if (!('_startServerPromise' in reader)) read = false;
    const failure = await startFailure(reader);
    if (!refusedAt(failure, ports)) continue;
    reader._startServerPromise = undefined;
    try {
      await reader.startServer();
      logger.info(
        "the application's Prometheus exporter could not listen while carbonscope's own endpoint held the port: started again, it serves carbonscope's metrics too",
      );
    } catch (err) {
      const reason = messageOf(err);
      logger.warn(
        `the application's Prometheus exporter could not listen (${reason}): nothing serves its metrics, nor carbonscope's; ${LATE_FIX}`,
      );
    }
  }
  return read;
}

/**
 * Said where the application's provider keeps its readers, or an exporter its start, where they
 * cannot be read (not the SDK's 2.x or 3.x) and nothing accepts connections where carbonscope's
 * endpoint was.
 */
export function unservedAfterHandOver(where: string): string {
  return `nothing serves ${where} since carbonscope's metrics went to the application's meter provider: an exporter of its that could not listen while carbonscope's own endpoint held the port cannot be found to start again; ${LATE_FIX}`;
}
