import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { hostPort } from '../listen-host.js';
import type { Logger } from '../log.js';
import type { Carbonscope } from '../runtime/index.js';
import type { Env } from '../settings.js';
import { messageOf } from '../thrown-text.js';
import { VERSION } from '../version.js';
import type { BindMetricsOptions } from './binding/index.js';
import { onGlobalMeterProviderSet } from './binding/index.js';
import { acceptsConnections } from './endpoint-probe.js';
import {
  globalProviderShutDown,
  hasGlobalMeterProvider,
  type OwnProvider,
  ownProviderPushes,
  startOwnProvider,
} from './own-provider.js';
import { restartRefusedExporters, unservedAfterHandOver } from './refused-exporters.js';
import { SCOPE } from './scope.js';
import { MissingSdkError, SdkTooOldError } from './sdk/index.js';
import { bindMetricsOnce, bindWithItsCode } from './shared-binding.js';

/** The instrumentation scope carbonscope's meter and instruments are named by (SCOPE.name). */
export const SCOPE_NAME = SCOPE.name;

export interface Attached {
  /**
   * `global` joined the application's SDK, `own` started one, `none` records nothing. `own` and
   * `none` become `global` when the application registers a provider later (its SDK started
   * late).
   */
  readonly mode: 'global' | 'own' | 'none';
  /**
   * For `own`, flushes and stops the provider, then detaches the instruments. The application's
   * provider (`global`) keeps them: it pushes last when it shuts down, which may come after.
   */
  shutdown(): Promise<void>;
  /**
   * For `own`, whether it holds figures counted since its last periodic push that arrived (or
   * none arrived yet): what a process that ends with no turn for a last push loses. False for
   * `global` and `none`: their pushes are not carbonscope's.
   */
  countedSincePush(): boolean;
}

/** What `global` and `none` answer: carbonscope pushes nothing of its own there. */
const NOTHING_OWN = { shutdown: async () => undefined, countedSincePush: () => false };

/**
 * Whether attachToOtel, asked now, would leave anything for a last push: the application's
 * registered provider, or one of its own with a pushing exporter (`otlp`, the spec's default,
 * or `console`). A Prometheus endpoint alone has nobody to answer once the process ends.
 */
export function pushesAnywhere(env: Env): boolean {
  return hasGlobalMeterProvider() || ownProviderPushes(env);
}

/** carbonscope's meter of the application's registered provider. */
function globalMeter() {
  return metrics.getMeter(SCOPE_NAME, VERSION);
}

/**
 * Binds carbonscope's instruments to the application's registered provider, for good: the
 * application owns its lifetime. Its last push may come after carbonscope's stop(), which leaves
 * the last sample to observe, or before it (an application that shuts its SDK down first, or
 * never stops carbonscope), and its collections settle what ended since the last sample.
 */
function joinGlobal(cs: Carbonscope, options: BindMetricsOptions, logger: Logger): void {
  const joined = { ...options, settleAtCollection: true };
  const provider = metrics.getMeterProvider();
  bindMetricsOnce(provider, cs, joined, 'carbonscope/register (attachToOtel)', logger);
}

const UNTIL_REGISTERED =
  " until the application registers a meter provider (its own SDK's, 1.x too, is joined)";

/**
 * Where no own provider started (none asked for, or none could): joins the application's
 * provider once it registers one (an SDK started after the first sample, or of a line
 * carbonscope's own SDK does not run on), which joining at the start would have found. Before,
 * it was never joined: its figures went nowhere.
 */
function joinWhenRegistered(cs: Carbonscope, options: BindMetricsOptions, logger: Logger) {
  let joined = false;
  const join = () => {
    if (joined || !hasGlobalMeterProvider() || globalProviderShutDown()) return;
    joined = true;
    unwatch();
    joinGlobal(cs, options, logger);
    logger.info("the application registered a meter provider: carbonscope's metrics go there now");
  };
  // The meter's own: register attaches after a stop() that came before the first sample, when
  // Carbonscope.onSample() warns and subscribes nothing.
  const offSample = cs.meter.onSample(join);
  const offRegistration = onGlobalMeterProviderSet(join);
  const unwatch = () => {
    offSample();
    offRegistration();
  };
  const attached: Attached = {
    get mode() {
      return joined ? 'global' : 'none';
    },
    shutdown: async () => unwatch(),
    countedSincePush: () => false,
  };
  return attached;
}

/**
 * Stops the own provider for the application's, whose Prometheus exporter (NodeSDK's, from the
 * same OTEL_METRICS_EXPORTER) found the port held by the own endpoint where its SDK started
 * late: started again once the port is free, it serves what the own endpoint served.
 */
async function handOverOwn(own: OwnProvider, logger: Logger): Promise<void> {
  // Where it listened: one not listening yet (a hand-over as it starts) refused nobody. Its port
  // is free once handOver() has closed it (the listening socket goes at close(), not waiting on
  // a scraper's kept-alive connection, which would hold it for as long as scrapes come).
  const served = own.servers.map((server) => server.address()).filter(isAddressInfo);
  await own.handOver();
  if (served.length === 0) return;
  const ports = served.map((address) => address.port);
  if (await restartRefusedExporters(metrics.getMeterProvider(), ports, logger)) return;
  // Readers it cannot read: one connection says whether anything serves there now. One line for
  // the endpoint, naming each address of it nothing serves (localhost's are two, on one port).
  const unserved: string[] = [];
  for (const address of served) {
    if (await acceptsConnections(address)) continue;
    unserved.push(hostPort(address.address, address.port));
  }
  if (unserved.length > 0) logger.warn(unservedAfterHandOver(unserved.join(' and ')));
}

function isAddressInfo(address: string | AddressInfo | null): address is AddressInfo {
  return typeof address === 'object' && address !== null;
}

/**
 * Gives carbonscope's figures to OpenTelemetry: when the application registered a meter
 * provider, carbonscope's instruments join it; otherwise carbonscope starts one of its own (never
 * the global one) as the standard OTEL_* variables say, when the SDK packages are installed
 * (they are optional peers), and moves to the application's as soon as it registers one.
 */
export async function attachToOtel(
  cs: Carbonscope,
  env: Env,
  logger: Logger,
  options: BindMetricsOptions = {},
): Promise<Attached> {
  if (hasGlobalMeterProvider()) {
    joinGlobal(cs, options, logger);
    return { mode: 'global', ...NOTHING_OWN };
  }
  let own: Awaited<ReturnType<typeof startOwnProvider>>;
  try {
    own = await startOwnProvider(env, logger);
  } catch (err) {
    if (!(err instanceof MissingSdkError)) throw err;
    const until = err instanceof SdkTooOldError ? UNTIL_REGISTERED : '';
    logger.warn(`metrics are not exported${until}: ${err.message}`);
    return joinWhenRegistered(cs, options, logger);
  }
  // No SDK asked for (`none`, the SDK off, no exporter known): an application's SDK that starts
  // after the first sample is joined as one started before it is.
  if (!own) return joinWhenRegistered(cs, options, logger);
  // The application registered while the SDK's packages loaded: the own one has counted nothing.
  if (hasGlobalMeterProvider()) {
    await handOverOwn(own, logger);
    joinGlobal(cs, options, logger);
    return { mode: 'global', ...NOTHING_OWN };
  }
  const provider = own;
  for (const server of provider.servers) cs.ignoreServer(server);
  // Where another copy's start() made `cs` (register imported after it), that copy's code.
  const detachOwn = bindWithItsCode(provider.provider, cs, {
    ...options,
    histograms: provider.histograms,
  });
  provider.marks.markWith(() => cs.countedSince());
  logger.info(`metrics exported by carbonscope's own SDK: ${provider.exporters.join(', ')}`);
  let joined = false;
  // The provider's last push collects from the instruments: they are detached after it, or the
  // push would carry none of the observed figures. Once only.
  let stopping: Promise<void> | undefined;
  const stopOwn = () => {
    stopping ??= provider.shutdown().finally(detachOwn);
    return stopping;
  };
  // The application's SDK started late: what the own provider counted goes there, and it stops
  // without pushing again (with nothing at its endpoint, that push was an error line). Its
  // observed figures (energy, power, emissions) are totals since the start, which the
  // application's provider observes too; its histograms are recorded there again (replay).
  // Both less what it pushed as deltas: a collector adds those to the application's. And less
  // its cumulative totals: the application's streams start now (their start time), and a
  // collector keeps the own series at their last value (another service.instance.id), or a
  // consumer that tells streams by start time takes a new one (the same): counted twice.
  // What ended before now was recorded here if a sample settled it (a sample's listeners run
  // after the tracker's), and is settled by the application's collections if not.
  const handOver = () => {
    joinGlobal(cs, { ...options, pushedBefore: provider.pushed }, logger);
    joined = true;
    provider.histograms.replay(globalMeter(), provider.pushed);
    detachOwn();
    stopping ??= handOverOwn(provider, logger);
    return stopping;
  };
  // At once, inside the application's registration: an application may shut its provider down
  // (and end) before the next sample, and its last push would carry nothing of carbonscope's.
  // The samples look too, for a registration the watch cannot hear (after metrics.disable()).
  // Not to one shut down already (its instruments would record nothing): the own one pushes.
  // What the move throws is said here: inside the registration, the watch keeps it from the
  // application and says nothing. The own one then goes on pushing; no other move is tried.
  const switchOver = () => {
    if (joined || !hasGlobalMeterProvider() || globalProviderShutDown()) return;
    unwatch();
    let stopped: Promise<void>;
    try {
      stopped = handOver();
    } catch (err) {
      logger.warn(
        `carbonscope's metrics stay with its own SDK: the application's meter provider failed: ${messageOf(err)}`,
      );
      return;
    }
    logger.info("the application registered a meter provider: carbonscope's metrics go there now");
    stopped.catch((err: unknown) => {
      logger.warn(`carbonscope's own SDK did not stop cleanly: ${messageOf(err)}`);
    });
  };
  // The meter's own, as joinWhenRegistered's.
  const offSample = cs.meter.onSample(switchOver);
  const offRegistration = onGlobalMeterProviderSet(switchOver);
  const unwatch = () => {
    offSample();
    offRegistration();
  };
  return {
    get mode() {
      return joined ? 'global' : 'own';
    },
    shutdown: async () => {
      unwatch();
      await stopOwn();
    },
    countedSincePush: () => !joined && provider.marks.unpushed(),
  };
}
