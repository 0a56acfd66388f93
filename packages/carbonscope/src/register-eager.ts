// `node --import carbonscope/register app.js`: carbonscope in any Node service with no code.
// The meter starts with automatic source selection, every incoming HTTP request is tracked by
// its route template, and the figures go out through the application's OTel SDK or, if it has
// none, one configured by the standard OTEL_* variables. Nothing here may stop the application:
// a failure is one line on stderr and the application runs unmetered.
// This is the whole of register, loaded at once: the entry bundlers take (the `module` condition
// of package.json's exports), and what register.ts loads on the main thread under Node.
import cluster from 'node:cluster';
import { isMainThread } from 'node:worker_threads';
import { appGoesOn, hideNextBeforeExit } from './before-exit.js';
import { pushBeforeUnaskedDisconnect } from './cluster-worker-end.js';
import { defaultLogger } from './default-logger.js';
import { heldUntilSettled } from './hold.js';
import { installRouteResolvers } from './http/frameworks/index.js';
import type { SettledFigures } from './otel/binding/index.js';
import {
  type Attached,
  announcePrimary,
  atDefaultStop,
  attachToOtel,
  captureSpan,
  contextPropagates,
  globalProviderShutDown,
  hasGlobalMeterProvider,
  metricsExporters,
  ownProviderPushes,
  ownProviderServesPrometheus,
  pushesAnywhere,
  releaseHeldSpans,
  startDefault,
  stopDefault,
} from './otel/index.js';
import { sdkResolves } from './otel/sdk/index.js';
import { isOwnCli } from './own-cli.js';
import { setTimeout } from './real-timers.js';
import { markRegisterPresent, registerPresent } from './register-present.js';
import { type RegisterRole, registerRole } from './register-role.js';
import type { Carbonscope } from './runtime/index.js';
import { settingsAsRead, settingsSetLaterTeller } from './settings-set-later.js';
import { SettledEarly } from './settled-early.js';
import { messageOf } from './thrown-text.js';
import { tellUnpushedAtExit } from './unpushed-exit.js';

const logger = defaultLogger(process.env);

/** Settles when the process ends by itself before register has chosen where to export. */
let endNow: () => void = () => undefined;
const ending = new Promise<void>((resolve) => {
  endNow = resolve;
});
let state: 'starting' | 'started' | 'failed' = 'starting';
let toldProbing = false;
/** Where register exports, once it chose; see unpushed. */
let attached: Attached | undefined;
/** True once the last push (the stop's) ended, delivered or not: its failure is told apart. */
let lastPushEnded = false;

/**
 * At most this many footprints wait for register's binding (the first 0.1 s or so, longer where
 * the application's loop never yields): what the tracker hands over at its first sample (its
 * 65,536 unsettled) and three times as many reported at once before it, 7.3 MB at most (28 bytes
 * each, see SettledEarly; measured 7.37 MB for 262,144 in a heap).
 */
const MAX_SETTLED_EARLY = 262_144;

/**
 * The footprints settled until register binds its instruments: the first sample settles what
 * ended before it, and register chooses where to export only after that sample's listeners ran.
 * replay() hands them over once, for recording, and stops collecting; discard() only stops. What
 * was over the bound is said at replay(): the pushed counts fall short of what the script did.
 */
function settledUntilBound(cs: Carbonscope): {
  replay(record: (footprint: SettledFigures) => void): void;
  discard(): void;
} {
  const settled = new SettledEarly(MAX_SETTLED_EARLY);
  const off = cs.onEnd((footprint) => settled.add(footprint));
  const discard = () => {
    off();
    settled.clear();
  };
  return {
    replay: (record) => {
      const { dropped } = settled;
      if (dropped > 0) {
        logger.warn(
          `carbonscope/register: ${dropped} operations that ended before the exporter was chosen are not in the metrics (the first ${MAX_SETTLED_EARLY} are)`,
        );
      }
      off();
      settled.replay(record);
    },
    discard,
  };
}

async function register(): Promise<void> {
  // What startDefault reads now, before the application's first line (its dotenv) runs.
  const tellSetLater = settingsSetLaterTeller(settingsAsRead(process.env), process.env, logger);
  const cs = await startDefault(
    {
      // Nothing here holds the process: a short script must end as it would without carbonscope,
      // however long nvidia-smi or powermetrics take to answer their probe.
      select: { holdProcess: false },
      // From now on, before the power sources are probed (a second or more for an nvidia-smi
      // without persistence mode): a health probe answered meanwhile is counted like any other.
      trackRequests: true,
      logger,
      captureContext: captureSpan,
      contextActive: contextPropagates,
      releaseContexts: releaseHeldSpans,
    },
    '--import carbonscope/register',
  );
  state = 'started';
  const early = settledUntilBound(cs);
  // register's ask of the tracking its create() began (or, where another caller's start made
  // the instance, the tracking itself): an instrumentation's disable() leaves it on.
  cs.trackRequests();
  // The last figures are pushed when the application calls stop() (in its own SIGTERM handler,
  // say) or when the process ends by itself. No signal handler here: how the application ends
  // is its own business, and a handler would change it. Asked for now, before the choice: a
  // stop() that comes first (`await stop(); process.exit()` in a short script) then waits for
  // the choice and its push, instead of resolving before either.
  let stopped: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const attaching = attachAtFirstSample(cs, early, stopping, tellSetLater);
  const pushed = atDefaultStop(cs, () => {
    tellSetLater();
    stopped();
    return attaching
      .then(
        (otel) => otel.shutdown(),
        () => undefined,
      )
      .finally(() => {
        lastPushEnded = true;
      });
  });
  await attaching;
  await pushed;
}

/**
 * The application's SDK, if it has one, is started by the time the first sample is taken (100 ms
 * after start): decide then whether to join it or start one. A script that ends before then
 * decides at its end, and one that stops carbonscope first at its stop(): its figures are pushed
 * as a longer one's are. Without holding the process: a short script must end as it would
 * without carbonscope.
 */
async function attachAtFirstSample(
  cs: Carbonscope,
  early: ReturnType<typeof settledUntilBound>,
  stopping: Promise<void>,
  tellSetLater: () => void,
): Promise<Attached> {
  await Promise.race([cs.meter.firstSample(), ending, stopping]);
  // The application's modules have most often loaded by now: a .env among them came too late
  // for these. Asked again later, for those whose loading or config took longer.
  tellSetLater();
  askAgainLater(tellSetLater);
  const otel = await attachToOtel(cs, process.env, logger, { settledBefore: early.replay });
  attached = otel;
  // Exporting nowhere, nothing took them.
  early.discard();
  if (otel.mode === 'global' && globalProviderShutDown()) logger.warn(JOINED_TOO_LATE);
  return otel;
}

/** When (ms after the first sample) settings set later are looked for again: cheap, ~50 reads. */
const ASK_AGAIN_MS: readonly number[] = [1_000, 5_000, 30_000];

/** Looks again a few times, holding no process open. */
function askAgainLater(ask: () => void): void {
  for (const ms of ASK_AGAIN_MS) setTimeout(ask, ms).unref();
}

/**
 * The application's provider had pushed for the last time before register could join it: a
 * script that kept the loop busy from its start until it shut its SDK down gave the first sample
 * no turn (nor any code of carbonscope's: the SDK's shutdown collects without one, so no later
 * join can be made in time). Its own stop(), awaited first, joins at once.
 */
const JOINED_TOO_LATE =
  "carbonscope/register: the application's meter provider was shut down before carbonscope joined it (at its first sample, 0.1 s after it started, which the application gave no turn of the event loop): carbonscope's metrics were not exported. `await stop()` from carbonscope before the SDK's shutdown() exports them";

/** Whether register started and chose where to export; false once it failed. */
let registered: Promise<boolean> = Promise.resolve(false);

function failed(err: unknown): false {
  state = 'failed';
  logger.error(`carbonscope/register: ${messageOf(err)}; the application runs unmetered`);
  // Nothing would be exported: stop measuring, so the application's requests pay nothing for it.
  stopDefault().catch(() => undefined);
  return false;
}

/**
 * The process ends by itself (`beforeExit`): a last sample, pushed. Armed before the first
 * sample, so a script that ends sooner is pushed too: the choice of where to export is made now,
 * and the process is held until the push is done (the last push's own deadline bounds it).
 * Nothing is held where nothing would be pushed (no exporter, Prometheus alone, the SDK
 * disabled), nor while a power source is still being probed. Where the application's own
 * listeners schedule more work from this end, it is not the end: that work is metered, and the
 * next one is. The application's listeners are told of each end as they would be without
 * register: not again of the one register's push prolonged.
 */
function atEnd(): void {
  if (state === 'failed') return;
  if (state === 'starting') {
    // A slow nvidia-smi's probe (5 s for a hung driver) holds no script. The loop may yet go on
    // (another beforeExit listener's work): then the next end is this one's.
    if (pushesAnywhere(process.env) && !toldProbing) {
      toldProbing = true;
      logger.warn(
        'carbonscope/register: the process ended while nvidia-smi or powermetrics was still being probed, before the meter started: nothing pushed',
      );
    }
    process.prependOnceListener('beforeExit', atEnd);
    return;
  }
  void appGoesOn().then((goesOn) => {
    if (goesOn) {
      // First again: the next end is looked at before the application's listeners run.
      process.prependOnceListener('beforeExit', atEnd);
      return;
    }
    hideNextBeforeExit();
    pushLast();
  });
}

/** The last sample, pushed, the process held for it; or only stopped, with nothing to push. */
function pushLast(): void {
  const exporting = pushesAnywhere(process.env);
  // With nothing to export, an end before the choice does nothing more: no last sample to take.
  if (exporting) endNow();
  const last = stopOnceRegistered();
  if (exporting) void heldUntilSettled(last);
}

/** carbonscope stopped (its last push made) once register chose where to export. */
function stopOnceRegistered(): Promise<void> {
  return registered
    .then((ok) => (ok ? stopDefault() : undefined))
    .catch((err: unknown) => {
      logger.error(`carbonscope/register: the last push failed: ${messageOf(err)}`);
    });
}

/**
 * The last push where Node gives no beforeExit (a cluster worker's unasked disconnect):
 * undefined where nothing would be pushed, or register has not started.
 */
function pushNow(): Promise<void> | undefined {
  if (state !== 'started' || !pushesAnywhere(process.env)) return undefined;
  endNow();
  return stopOnceRegistered();
}

/**
 * Whether the process ends now with figures register's own SDK would have pushed and did not: it
 * started, its last push has not ended, and something was counted since its last periodic push
 * that arrived (an exit right after one loses nothing). The application's provider, where register joined
 * one, is the application's to push.
 */
function unpushed(): boolean {
  if (state !== 'started' || lastPushEnded || isOwnCli()) return false;
  if (attached) {
    return attached.mode === 'own' && ownProviderPushes(process.env) && attached.countedSincePush();
  }
  // Not chosen yet (the first 0.1 s): the choice would have made no provider without the SDK.
  const env = process.env;
  return (
    !hasGlobalMeterProvider() && ownProviderPushes(env) && sdkResolves(metricsExporters(env), env)
  );
}

/** register, started: where the figures go, the meter, and how the process's end is pushed. */
function measure(): void {
  registered = register().then(() => true, failed);
  process.prependOnceListener('beforeExit', atEnd);
  pushBeforeUnaskedDisconnect(pushNow);
  tellUnpushedAtExit(unpushed, logger);
}

/**
 * pm2's daemon: its cluster mode's workers are its own node:cluster workers, whose endpoint it
 * serves from its first fork on, as a registered primary does; a fork mode's child (no worker)
 * holds the port itself, so nothing starts before. Announced before any fork: cluster.fork
 * copies process.env as it forks. pm2-runtime's process runs the daemon's part only where no
 * daemon runs yet, else its applications' settings, its environment among them, go to that
 * daemon's workers: it announces itself once pm2's daemon code sets node:cluster up, as it loads
 * (its God.js), in this process. Only with the Prometheus exporter: pushed, each worker's figures
 * go on their own.
 */
function measureAtFirstClusterFork(role: 'pm2-daemon' | 'may-run-pm2-daemon'): void {
  if (!ownProviderServesPrometheus(process.env)) return;
  const announce = () => announcePrimary(process.env, true);
  if (role === 'pm2-daemon') announce();
  else cluster.once('setup', announce);
  cluster.once('fork', () => {
    markRegisterPresent();
    measure();
  });
}

// A worker thread inherits --import (its execArgv is the process's): there register would start
// a second meter of the same process (a worker's CPU time is the whole process's), push that as
// a copy of the main thread's figures and hold the worker's end for the push. The main thread's
// meter measures the process, its workers included. Which other processes register stands down
// in, or waits in for a cluster, register-role.ts says. Where another copy of carbonscope (a
// dependency's own) has registered in this process, that one measures it: a second would start
// a second SDK, on the same Prometheus port (EADDRINUSE, said on stderr).
const role: RegisterRole = isMainThread && !registerPresent() ? registerRole() : 'stands-down';
if (role === 'measures') {
  // Before any instrumentation can look: it leaves saying where the figures go to register.
  markRegisterPresent();
  // Now, while the application's modules are still to load: Fastify 4 tells of each instance
  // only as it is built, and the meter starts later.
  installRouteResolvers();
  // Before the application forks its cluster's workers, or starts Node children of its own:
  // they inherit the word, and answer this process's endpoint.
  announcePrimary(process.env, ownProviderServesPrometheus(process.env), true);
  measure();
} else if (role !== 'stands-down') {
  measureAtFirstClusterFork(role);
}
