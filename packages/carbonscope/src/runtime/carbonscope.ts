import {
  checkedFunction,
  checkedKind,
  checkedOptions,
  checkedResponse,
} from '../argument-checks.js';
import { defaultLogger } from '../default-logger.js';
import {
  type ActiveOperation,
  bootClock,
  type ChildCpuAccount,
  ChildrenCpu,
  type Clock,
  checkProbeTimeout,
  childrenCpuRefused,
  createHostCpuReader,
  type DroppedOperation,
  type EarlyAnswer,
  type EarlyAnswerListener,
  type EndedRequestListener,
  type EndOptions,
  EnergyMeter,
  type EnergySnapshot,
  EnergyTracker,
  eventLoopIdle,
  FIRST_SAMPLE_MS,
  type GpuShareReader,
  type HostCpuReader,
  type LentFiguresListener,
  MAX_RUNNING,
  type Measured,
  type MeasureOptions,
  type MeterSources,
  mainThreadCpuClock,
  measureWith,
  monotonicClock,
  type OperationContext,
  type OperationFootprint,
  type OperationKind,
  type OperationListener,
  type OperationTracker,
  ownProcessCpu,
  ownProcessCpuMs,
  type ProcessCpuReader,
  passedThrough,
  readEarlyBaseline,
  type SampleListener,
  type SelectSourcesOptions,
  selectSources,
  snapshotOf,
  type Timer,
  tooDeepToTrack,
  unrefTimer,
  untracked,
} from '../energy/index.js';
import { createGridIntensity, type GridIntensity, type GridService } from '../grid/index.js';
import {
  httpMethodLabel,
  REQUEST_OPERATION,
  type RequestTracking,
  type RequestTrackingOptions,
  type TrackableServer,
  trackHttpRequests,
  UNMATCHED_ROUTE,
} from '../http/index.js';
import {
  type BoundedLabelSet,
  DEFAULT_MAX_OPERATION_NAMES,
  operationLabels,
} from '../labels/index.js';
import { callEach, checkListener, Listeners } from '../listeners.js';
import { type Logger, redactionList } from '../log.js';
import { misspeltVariablesWarning } from '../misspelt-variables.js';
import { checkedOperationName } from '../operation-name.js';
import { warnUnknownCallKeys, warnUnknownKeys } from '../option-keys.js';
import { shortKeyWarning } from '../secret-length.js';
import {
  checkSettings,
  type Env,
  loadedSecretsOf,
  loadSettings,
  type Settings,
} from '../settings.js';
import { messageOf } from '../thrown-text.js';
import { type ContextHooks, contextHooks } from './context-release.js';
import { type DropCount, DropCounts } from './drop-counts.js';
import { checkOptions } from './injected.js';
import { CARBONSCOPE_OPTIONS, MEASURE_OPTIONS, REQUEST_TRACKING_OPTIONS } from './known-options.js';
import { LoopEndSettler } from './loop-end-settle.js';
import { lostWhileStartingText } from './lost-while-starting.js';
import { operationNameWarning } from './operation-name-warning.js';
import { OperationScores } from './operation-scores.js';
import { profilerWarning, profilerWarningGiven } from './profiler-warning.js';
import { STOPPED_TRACKING, StoppedOperation } from './stopped-operation.js';

export interface CarbonscopeOptions {
  /** carbonscope's settings; read from `env` (CARBON_*, ENERGY_*, PUE, GRID_*) when absent. */
  settings?: Settings;
  /**
   * The environment the settings (when `settings` is absent) and the default logger read;
   * `process.env` by default.
   */
  env?: Env;
  /** Where the library logs; warnings and errors to stderr when absent. */
  logger?: Logger;
  /** The power sources; chosen by ENERGY_SOURCE (auto: RAPL, powermetrics, estimate) when absent. */
  sources?: MeterSources;
  /** Options for that choice (binaries, platform), when `sources` is absent. */
  select?: Omit<SelectSourcesOptions, 'config' | 'logger' | 'raplEarly'>;
  /**
   * Tracks every incoming HTTP request from create() on, while the power sources are probed
   * (`register`'s and the instrumentation's: an nvidia-smi slow to answer takes a second or
   * more), as trackRequests() does: the requests of that time are counted, their energy from
   * the meter's baseline on (the default instance's is at create(), see StartingNow; a create()
   * alone has it at start(), and what came before is in no reading). No caller's ask: the
   * trackRequests() its caller makes once started is (one counted as an ask was asked twice by
   * the instrumentation and released once: tracked forever).
   */
  trackRequests?: boolean;
  /** An existing grid service to price energy with; one is built from the settings when absent. */
  grid?: GridService | GridIntensity;
  /** What the process scope measures: this process by default (the CLI passes a child tree). */
  processCpu?: ProcessCpuReader;
  /**
   * The process's share of the GPUs' energy (`carbonscope run` passes nvidia-smi pmon's); GPU
   * energy is the host's only without it.
   */
  gpuShares?: GpuShareReader;
  hostCpu?: HostCpuReader;
  /** Monotonic ms (tests script it). */
  clock?: Clock;
  /**
   * Milliseconds the event loop has waited idle (tests script it); Node's own figure with the
   * default clock, none (always busy) with a scripted clock.
   */
  loopIdle?: () => number;
  /** Epoch ms (tests script it). */
  wallClock?: () => number;
  /**
   * Milliseconds that go on while the machine is suspended (tests script it): Linux's boot
   * clock with the default clock, none with a scripted one.
   */
  bootClock?: Clock;
  /** The meter's timer (tests and hosts with their own scheduler drive it). */
  timer?: Timer;
  /** See TrackerOptions.captureContext (the OTel layer passes `captureSpan`). */
  captureContext?: (operation: string, kind: OperationKind) => OperationContext | undefined;
  /**
   * With captureContext: whether a context can be active now (the OTel layer passes
   * `contextPropagates`). Request tracking asks it before a server's requests capture theirs,
   * so a process where none can be active pays nothing per request for it.
   */
  contextActive?: () => boolean;
  /**
   * With captureContext: called at stop(), after the last figures are settled, to hand on at
   * once what the contexts still hold back. A captureContext paired with its own release
   * (captureSpan: this instance's spans alone) has that called at stop() too, before this one,
   * whatever is given here; `releaseHeldSpans` given here (as the OTel layer does) is that one.
   */
  releaseContexts?: () => void;
}

export interface EarlyAnswerOptions {
  /** The request's method, only where Node parsed one. */
  method?: string;
  /** Seconds the answer took, as far as known; 0 (answered on arrival) when absent. */
  seconds?: number;
  /** `https` for a TLS server's socket. */
  scheme?: 'http' | 'https';
}

/**
 * A create() whose start follows at once (the default instance's: start(), register, the
 * instrumentation): its meter's first interval runs from create(), the sources' probe inside it
 * (EarlyBaseline), and `lend` is handed its tracker as soon as it is made, for track() to use
 * meanwhile.
 */
export interface StartingNow {
  lend?: (tracker: EnergyTracker) => void;
}

const NOTHING_TO_UNSUBSCRIBE = (): void => undefined;

/**
 * What runs at the end of an instance's stop(), whoever called it: the default instance's slot
 * (default.ts) forgets it and runs register's last push there, which `cs.stop()` on the
 * instance start() gave skipped, leaving a stopped instance for start() and track() to find.
 */
const atStop = new WeakMap<Carbonscope, () => Promise<void>>();

/** Has `fn` run once, after `cs`'s stop() took its last sample. */
export function whenStopped(cs: Carbonscope, fn: () => Promise<void>): void {
  atStop.set(cs, fn);
}

/** Operation names warned about when dropped from sharing; drops beyond are only counted. */
const MAX_DROP_WARNINGS = 100;
/** Distinct listener errors warned about; a listener failing for every operation warns once. */
const MAX_LISTENER_WARNINGS = 100;

/**
 * The powercap root whose RAPL counters the early baseline reads: where the sources are chosen
 * here and RAPL may be one (Linux; ENERGY_SOURCE neither estimate nor powermetrics).
 */
function raplRootOf(options: CarbonscopeOptions, settings: Settings): string | undefined {
  const { source, powercapRoot } = settings.energy;
  const platform = options.select?.platform ?? process.platform;
  if (options.sources || platform !== 'linux') return undefined;
  return source === 'estimate' || source === 'powermetrics' ? undefined : powercapRoot;
}

/** The boot clock given, else Linux's with the default clock; none with a scripted clock. */
function bootClockOf(options: CarbonscopeOptions): { bootClock?: Clock } {
  const clock = options.bootClock ?? (options.clock ? undefined : bootClock);
  return clock ? { bootClock: clock } : {};
}

/**
 * The children's CPU where the process measures itself (Linux); none where the caller
 * says what the process scope measures (`carbonscope run`'s tree holds its children already).
 * `spawner`: the account each child's CPU is charged to (the tracker's childAccount).
 */
function childCpuOf(
  options: CarbonscopeOptions,
  logger: Logger,
  spawner: () => ChildCpuAccount | undefined,
): { childCpu?: ChildrenCpu } {
  if (options.processCpu) return {};
  const reader = ChildrenCpu.open({ spawner });
  if (reader) return { childCpu: reader };
  // Told once, as each source the permission model refuses is: else the children go unseen.
  const refused = childrenCpuRefused();
  if (refused) {
    logger.warn(`energy: the CPU of child processes that are not Node is not counted (${refused})`);
  }
  return {};
}

/** The tracker of create(), before the sources: `awaited` is its onAwaited (see there). */
function trackerOf(
  options: CarbonscopeOptions,
  contexts: ContextHooks,
  settings: Settings,
  clock: Clock,
  logger: Logger,
  awaited: () => void,
): EnergyTracker {
  return new EnergyTracker({
    clock,
    // A scripted clock (tests) comes with its own loop idle time, or none.
    loopIdle: options.loopIdle ?? (options.clock ? undefined : eventLoopIdle),
    cpuClock: options.clock ? undefined : ownProcessCpuMs,
    threadCpuClock:
      options.clock || settings.energy.operationAttribution === 'wall'
        ? undefined
        : mainThreadCpuClock(),
    captureContext: options.captureContext,
    contextsSettling: contexts.settling,
    // Built once here, used only where an operation with a context fails.
    ...(options.captureContext
      ? { secrets: redactionList(loadedSecretsOf(settings, options.env ?? process.env)) }
      : {}),
    // Until the meter's baseline says what the host's source is (see baseline).
    estimated: options.sources?.host.estimated ?? true,
    attribution: settings.energy.operationAttribution,
    calibrationIntervalMs: settings.energy.calibrationIntervalMs,
    maxOperationAgeMs: settings.energy.operationMaxAgeMs,
    maxCalibratedNames: settings.energy.operationMaxNames ?? DEFAULT_MAX_OPERATION_NAMES,
    knownHttpMethods: settings.http.knownMethods,
    onAwaited: awaited,
    onListenerError: warnOnce(logger, 'operation listener'),
    onNestedTooDeep: (depth) =>
      logger.warn(
        `track() was nested ${depth} deep on one call stack (a recursive function that tracks each level): deeper calls run untracked, their work counted to the operations around them`,
      ),
  });
}

/** trackRequests()'s options but the caller's: the settings', the tracker's, the logger. */
function requestTrackingOf(
  hooks: Pick<CarbonscopeOptions, 'contextActive'>,
  settings: Settings,
  tracker: EnergyTracker,
  logger: Logger,
): RequestTrackingOptions {
  return {
    knownMethods: settings.http.knownMethods,
    captureContext: tracker.capturesContext && (hooks.contextActive ?? true),
    logger,
  };
}

/** One warning per distinct error message of `what`, the first MAX_LISTENER_WARNINGS of them. */
function warnOnce(
  logger: Logger,
  what: string,
  outcome = 'the operation was counted',
): (err: unknown) => void {
  const warned = new Set<string>();
  return (err) => {
    const message = messageOf(err);
    if (warned.has(message) || warned.size >= MAX_LISTENER_WARNINGS) return;
    warned.add(message);
    logger.warn({ err: message }, `${what} failed (${message}); ${outcome}`);
  };
}

/**
 * One process's carbonscope: grid intensity → power sources → energy meter → operation tracker,
 * assembled the same way for the app, the CLI, `register`, the instrumentation and scripts.
 * Nothing here records metrics: the OTel layer subscribes to `onSample` and `onSettled`.
 */
export class Carbonscope implements OperationTracker {
  private requests: RequestTracking | undefined;
  /** The trackRequests() calls not yet released: register's and an instrumentation's share one. */
  private requestAsks = 0;
  private readonly ignoredServers: TrackableServer[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  /**
   * The operation names every metric, the snapshot and the drop counts label with, one set for
   * all: a name is its own everywhere or `other` everywhere, whichever binding saw it first.
   */
  readonly operationNames: BoundedLabelSet;
  private readonly scores: OperationScores;
  private readonly earlyListeners = new Listeners<EarlyAnswerListener>();
  private readonly earlyListenerFailed: (err: unknown) => void;
  private readonly drops: DropCounts;
  /** The operation names warnDropped warned about. */
  private readonly droppedNames = new Set<string>();
  /** From stop() on: calls count nothing, subscribe nothing, start nothing. */
  private stopped = false;
  /** The stop, once asked for; see stop(). */
  private stopping: Promise<void> | undefined;
  /** The methods called after stop() and warned of: one warning each. */
  private readonly calledAfterStop = new Set<string>();
  /** Whether requestFootprint() was handed a request, and said so: one warning. */
  private warnedRequestGiven = false;

  private constructor(
    readonly settings: Settings,
    readonly logger: Logger,
    readonly grid: GridService | GridIntensity,
    readonly meter: EnergyMeter,
    readonly tracker: EnergyTracker,
    private readonly loopEnd: LoopEndSettler,
    /** Request tracking create() began (`trackRequests`), asked by no one yet. */
    requests: RequestTracking | undefined,
    private readonly contextActive?: () => boolean,
    private readonly releaseContexts?: () => void,
  ) {
    this.earlyListenerFailed = warnOnce(logger, 'early answer listener', 'the answer was counted');
    this.requests = requests;
    const maxNames = settings.energy.operationMaxNames ?? DEFAULT_MAX_OPERATION_NAMES;
    this.operationNames = operationLabels(maxNames, (name, reason) =>
      logger.warn(operationNameWarning(name, reason, maxNames)),
    );
    this.scores = new OperationScores(this.operationNames);
    this.drops = new DropCounts(this.operationNames);
    // Requests are named (or ended, if their client left) before the interval is settled.
    this.unsubscribe.push(
      meter.onSample((sample) => {
        this.requests?.sweep();
        tracker.update(sample);
      }),
      tracker.onSettled((figures) => this.scores.record(figures)),
      tracker.onDrop((dropped) => {
        const named = this.asItWouldEnd(dropped);
        this.drops.record(named);
        this.warnDropped(named);
      }),
    );
  }

  /**
   * A tracked request dropped before anything named its route is labelled as its end labels it,
   * `unmatched`, not by the name it runs under till then: the sweep before each sample renames
   * the ones whose route is known. Renaming them all `unmatched` as they begin would weigh them
   * by the density of unmatched requests (most often cheap 404s) while they run.
   */
  private asItWouldEnd(dropped: DroppedOperation): DroppedOperation {
    const placeholder = dropped.kind === 'request' && dropped.operation === REQUEST_OPERATION;
    return placeholder && this.requests ? { ...dropped, operation: UNMATCHED_ROUTE } : dropped;
  }

  /**
   * One warning per operation name dropped from sharing (the first MAX_DROP_WARNINGS names: a
   * name is code's, but a leak may make many); every drop is counted in the snapshot.
   */
  private warnDropped({ operation, kind, ageMs, reason }: DroppedOperation): void {
    const warned = this.droppedNames;
    if (warned.has(operation) || warned.size >= MAX_DROP_WARNINGS) return;
    warned.add(operation);
    const request = kind === 'request';
    const why =
      reason === 'age'
        ? `${request ? 'still open' : 'still running'} after ${Math.round(ageMs / 1000)} s (ENERGY_OPERATION_MAX_AGE_MS=${this.settings.energy.operationMaxAgeMs})`
        : `the oldest of more than ${MAX_RUNNING} operations running at once`;
    // A request ends with its response, so no forgotten end() is to blame: a stream or a long
    // poll outlived the setting.
    const remedy = request
      ? 'a stream or long poll meant to last longer needs a longer ENERGY_OPERATION_MAX_AGE_MS'
      : 'one begun with begin() needs end(), which then reports what it got until now; one of ' +
        'track() ends as its function returns or its promise settles, so a promise that never ' +
        'settles (an await on nothing that resolves) keeps it running';
    this.logger.warn(
      `${request ? 'request' : 'operation'} "${operation}" dropped from energy sharing: ${why}; ${remedy}; further drops of it are only counted (droppedOperations in the snapshot)`,
    );
  }

  /** Builds every part; probes the power sources (so it is async), starts nothing. */
  static async create(
    options: CarbonscopeOptions = {},
    /** Who was given the options, for the warnings of keys it does not know. */
    caller = 'Carbonscope.create()',
    /** Given where start() follows at once (see StartingNow). */
    startingNow?: StartingNow,
  ): Promise<Carbonscope> {
    checkOptions(options, 'Carbonscope.create()');
    if (options.settings) checkSettings(options.settings);
    // Refused before anything is built: a default start's tracker, once lent, would take in
    // operations that a start failing on it later loses.
    if (!options.sources) checkProbeTimeout(options.select?.probeTimeoutMs);
    const settings = options.settings ?? loadSettings(options.env ?? process.env);
    const logger = options.logger ?? defaultLogger(options.env ?? process.env, settings);
    warnUnknownKeys(options, CARBONSCOPE_OPTIONS, caller, logger);
    // Settings read here from the environment: a misspelt variable's is not in effect.
    const misspelt = options.settings
      ? undefined
      : misspeltVariablesWarning(options.env ?? process.env);
    if (misspelt) logger.warn(misspelt);
    const shortKey = shortKeyWarning('the Electricity Maps API key', settings.grid.apiKey);
    if (shortKey) logger.warn(shortKey);
    // Only where the loop's idle time is libuv's and operations are this process's: not on a
    // scripted clock (tests), nor in `carbonscope run`, which measures a command's tree.
    const profiler =
      options.clock || options.loopIdle || options.processCpu
        ? undefined
        : profilerWarning(settings.energy.operationAttribution);
    if (profiler) {
      logger.warn(profiler);
      profilerWarningGiven();
    }
    const grid = options.grid ?? createGridIntensity({ config: settings, logger });
    const clock = options.clock ?? monotonicClock;
    // Built before the sources are probed: it may track requests meanwhile (trackRequests).
    // The settler is the meter's, made with it: someone awaiting a figure before then is
    // looked at once it is.
    let loopEnd: LoopEndSettler | undefined;
    // This instance's release where its capture offers one (captureSpan): see stop().
    const contexts = contextHooks(options.captureContext, options.releaseContexts);
    const tracker = trackerOf(options, contexts, settings, clock, logger, () => loopEnd?.arm());
    const requests = options.trackRequests
      ? trackHttpRequests(tracker, requestTrackingOf(options, settings, tracker, logger))
      : undefined;
    // Made here: its first read is the host's CPU baseline, the early one's where start follows.
    const hostCpu =
      options.hostCpu ??
      createHostCpuReader({
        onReadError: warnOnce(
          logger,
          'energy meter: reading the host CPU time',
          'its last reading stands in until a read gets through',
        ),
      });
    const processCpu = options.processCpu ?? ownProcessCpu;
    const boot = bootClockOf(options);
    const wallClock = options.wallClock ?? Date.now;
    const early = startingNow
      ? readEarlyBaseline(
          clock,
          wallClock,
          processCpu,
          boot.bootClock,
          raplRootOf(options, settings),
        )
      : undefined;
    if (early) {
      tracker.baseline(options.sources?.host.estimated ?? true);
      startingNow?.lend?.(tracker);
    }
    let sources: MeterSources;
    try {
      sources =
        options.sources ??
        (await selectSources({
          clock,
          ...options.select,
          config: settings,
          logger,
          ...(early?.raplCounters ? { raplEarly: early.raplCounters } : {}),
        }));
    } catch (err) {
      // Nothing of it stays on: its tracking, an `exact` tracker's async hooks.
      requests?.stop();
      const running = tracker.active;
      const ended = tracker.pending;
      tracker.stop();
      // What the lent tracker took in goes nowhere now: said, or the user believes it counted.
      if (early && running + ended > 0) {
        logger.warn(lostWhileStartingText(err, ended, running));
      }
      throw err;
    }
    const meter = new EnergyMeter({
      sources,
      grid,
      zone: settings.grid.zone,
      attribution: settings.energy.attribution,
      pue: settings.energy.pue,
      embodied: settings.embodied,
      intervalMs: settings.energy.sampleIntervalMs,
      logger,
      clock,
      ...boot,
      wallClock,
      timer: options.timer ?? unrefTimer,
      hostCpu,
      processCpu,
      ...(early ? { early } : {}),
      // Asked only as a child is spawned, by when the tracker exists.
      ...childCpuOf(options, logger, () => tracker.childAccount()),
      ...(options.gpuShares ? { gpuShares: options.gpuShares } : {}),
      onBaseline: () => {
        tracker.baseline(sources.host.estimated);
        tracker.meterStarted();
      },
    });
    loopEnd = new LoopEndSettler(meter, () => tracker.awaited);
    if (tracker.awaited) loopEnd.arm();
    return new Carbonscope(
      settings,
      logger,
      grid,
      meter,
      tracker,
      loopEnd,
      requests,
      options.contextActive,
      contexts.release,
    );
  }

  /**
   * Whether this instance is stopped, `method`'s first call after its stop() warned of: an
   * application that kept `cs` past stop() (its shutdown, a test's teardown) believes it counted.
   */
  private afterStop(method: string): boolean {
    if (!this.stopped) return false;
    if (!this.calledAfterStop.has(method)) {
      this.calledAfterStop.add(method);
      this.logger.warn(
        `${method} after stop(): this carbonscope is stopped and counts nothing more (it does not start again)`,
      );
    }
    return true;
  }

  /** Starts the meter; resolves once its baseline is set (work after it is measured). */
  start(): Promise<void> {
    if (this.afterStop('start()')) return Promise.resolve();
    return this.meter.start();
  }

  /**
   * Resolves after the first sample: from then on figures exist. Once started, it keeps the
   * process alive until then (100 ms at most), so a script can await it with nothing else to do.
   */
  firstSample(): Promise<void> {
    return this.meter.firstSample(true);
  }

  /**
   * Tracks every incoming HTTP request of the process (any framework) as an operation named by
   * its route template (only those of `options.servers` when given). Idempotent: the first
   * call's options stand.
   */
  trackRequests(options: RequestTrackingOptions = {}): RequestTracking {
    if (typeof options === 'object' && options !== null) {
      warnUnknownKeys(options, REQUEST_TRACKING_OPTIONS, 'trackRequests()', this.logger);
    }
    // Its tracking would run on, unstopped, counting requests of a stopped meter.
    if (this.afterStop('trackRequests()')) return STOPPED_TRACKING;
    this.requestAsks++;
    if (!this.requests) {
      const requests = trackHttpRequests(this.tracker, {
        ...requestTrackingOf(
          { contextActive: this.contextActive },
          this.settings,
          this.tracker,
          this.logger,
        ),
        ...options,
      });
      for (const server of this.ignoredServers) requests.ignore(server);
      this.requests = requests;
    }
    return this.requests;
  }

  /** Leaves a server's requests out of request tracking, now and later (a metrics endpoint). */
  ignoreServer(server: TrackableServer): void {
    // Nothing is tracked after the stop, and register's own servers are handed here after it
    // where the application stopped carbonscope before the first sample.
    if (this.stopped) return;
    this.ignoredServers.push(server);
    this.requests?.ignore(server);
  }

  /**
   * One trackRequests() call is done with it (an instrumentation's disable()): tracking stops
   * with the last one, and goes on for a caller that still wants it (register).
   */
  releaseRequests(): void {
    if (this.requestAsks > 0) this.requestAsks--;
    if (this.requestAsks === 0) this.untrackRequests();
  }

  /** Stops tracking HTTP requests for every caller (the ones in flight end now). */
  untrackRequests(): void {
    this.requestAsks = 0;
    this.requests?.stop();
    this.requests = undefined;
  }

  // The names are checked here, where an application calls in, not in the tracker: request
  // tracking begins an operation per request there, with names it made itself.
  begin(operation: string, kind?: OperationKind): ActiveOperation {
    checkedKind(kind);
    const name = checkedOperationName(operation, 'begin()');
    if (this.afterStop('begin()')) return this.stoppedOperation(name, kind);
    return this.tracker.begin(name, kind);
  }

  track<T>(operation: string, fn: () => PromiseLike<T>): Promise<T>;
  track<T>(operation: string, fn: () => T): T;
  track<T>(operation: string, fn: () => T): T {
    const name = checkedOperationName(operation, 'track()');
    checkedFunction(fn, 'track()');
    // The application's work runs as it would without carbonscope.
    if (this.afterStop('track()')) return untracked(fn);
    if (tooDeepToTrack(this.tracker)) return passedThrough(fn);
    return this.tracker.track(name, fn);
  }

  /**
   * Runs fn as one operation; resolves to its result, its settled footprint and its SCI for
   * `options.units` functional units. When fn is done a sample is taken at once if the meter's
   * interval has run at least FIRST_SAMPLE_MS (a shorter one measures little), else the next
   * regular one settles it. With the meter not sampling, nothing can settle it: the footprint
   * is the provisional one.
   */
  async measure<T>(
    operation: string,
    fn: () => T | PromiseLike<T>,
    options?: MeasureOptions<T>,
  ): Promise<Measured<T>> {
    const name = checkedOperationName(operation, 'measure()');
    checkedFunction(fn, 'measure()');
    if (options !== undefined) {
      checkedOptions(options, 'measure()');
      // `{ unit: 1000 }` left the SCI per operation, 1000 times the figure meant, without a word.
      warnUnknownCallKeys(options, MEASURE_OPTIONS, 'measure()', this.logger);
    }
    if (this.afterStop('measure()')) {
      const stopped = { begin: (n: string) => this.stoppedOperation(n, 'operation') };
      return measureWith(stopped, name, fn, options);
    }
    return measureWith(this.tracker, name, fn, options, (op) => this.settle(op));
  }

  /**
   * Takes a sample now if the meter samples and its last one is FIRST_SAMPLE_MS old or more (a
   * shorter interval measures little): the operations ended since are settled, and reported.
   */
  settleNow(): void {
    const { meter } = this;
    const last = meter.latest();
    if (meter.sampling && last && meter.options.clock() - last.nowMs >= FIRST_SAMPLE_MS) {
      meter.sampleNow();
    }
  }

  /**
   * Settles for a collection of the metrics, which may be the last one (an application's
   * provider shut down before stop(), or without it): a sample when operations ended since the
   * last one, whatever its age and even before the first (they would never be pushed
   * otherwise), or when the last is FIRST_SAMPLE_MS old (the energy up to now). A second
   * collection at once finds nothing to do.
   */
  settleForCollection(): void {
    // First, on the stack of the scrape that collects (if one does): its request never counts.
    this.requests?.leaveOutScrape();
    if (!this.settleEnded()) this.settleNow();
  }

  /**
   * Takes a sample now where operations ended since the last one, whatever its age: they are
   * settled (their spans given their figures and ended). Whether it sampled. For the
   * application's tracer provider as it shuts down, which takes no span ended after.
   */
  settleEnded(): boolean {
    const { meter } = this;
    if (!meter.sampling || this.tracker.pending === 0) return false;
    meter.sampleNow();
    return true;
  }

  /**
   * A mark of what the metrics hold now; the function returned tells, later, whether anything
   * was counted since: a sample (the energy totals, and the operations it settled), an operation
   * dropped, or an ended one waiting for its sample (a collection carries none of those). Read
   * from what the meter and the tracker keep anyway: nothing is added to a request's path.
   */
  countedSince(): () => boolean {
    const { meter, tracker } = this;
    const sample = meter.latest();
    const dropped = tracker.dropped;
    return () => tracker.pending > 0 || meter.latest() !== sample || tracker.dropped !== dropped;
  }

  private stoppedOperation(name: string, kind: OperationKind = 'operation'): ActiveOperation {
    const { tracker } = this;
    return new StoppedOperation(name, kind, this.meter.options.clock, tracker.checkHttpEnd);
  }

  private settle(op: ActiveOperation): Promise<OperationFootprint> {
    if (!this.meter.sampling) return Promise.resolve(op.end());
    this.settleNow();
    // A script whose last act is measure() has the sample taken when its loop runs empty
    // (LoopEndSettler), rather than ending before it comes.
    return op.settled();
  }

  /** What the meter knows now, with every operation's mean E × I, M and SCI since the start. */
  snapshot(): EnergySnapshot {
    return snapshotOf(this.meter, this.scores.list(), this.tracker.dropped);
  }

  /** Operations dropped from sharing since the start, per name (bounded) and kind. */
  dropCounts(): IterableIterator<DropCount> {
    return this.drops.list();
  }

  onSample(listener: SampleListener): () => void {
    // Checked by the meter, which is public too; kept for ever after the stop, called never.
    if (this.stopped) checkListener(listener, 'onSample');
    if (this.afterStop('onSample()')) return NOTHING_TO_UNSUBSCRIBE;
    return this.meter.onSample(listener);
  }

  /**
   * Every operation's settled footprint, at the sample after its end; only those of
   * `options.kinds` where given (no footprint is built for the others).
   */
  onEnd(listener: OperationListener, options?: EndOptions): () => void {
    return this.tracker.onEnd(listener, options);
  }

  /**
   * Every operation's settled figures, at the sample after its end, in one object lent for the
   * call: read them there and keep none (see LentFigures, EnergyTracker.onSettled).
   */
  onSettled(listener: LentFiguresListener): () => void {
    return this.tracker.onSettled(listener);
  }

  /** Every operation's provisional footprint, as it ends (see EnergyTracker.onFinish). */
  onFinish(listener: OperationListener): () => void {
    return this.tracker.onFinish(listener);
  }

  /**
   * The provisional footprint of the HTTP/1 request `res` answered (Node's response, or the
   * object a framework wraps it in: Express's req, Fastify's reply, Koa's ctx; a request that
   * leads to none is undefined and one warning, not a throw, which in a logger's serializer or
   * a 'finish' listener ends the server; a non-object is a TypeError, as in setRoute and
   * setAttributes), for its access log line: asked from the response's
   * `finish` (pino-http, Fastify's `request completed`), it is the figure end() gives, its
   * last part at the previous interval's rate, `provisional: true`. Undefined before its end,
   * once the next sample settled it (the settled figure is onEnd's, the metrics' and the
   * span's), for a request not tracked, and when not started. Undefined too where that
   * figure is 0 J (a request whose measured CPU, in a calibration window or in `exact`, reads
   * 0): a logged 0 J read as a free request. Nothing is kept for it per request: the footprint
   * is made at the call (where CPU is measured, with one more reading of the clocks).
   */
  requestFootprint(res: object): OperationFootprint | undefined {
    checkedResponse(res, 'requestFootprint()');
    const op = this.requests?.endedOperation(res, this.requestGiven);
    const footprint = op && this.tracker.footprintAtEnd(op);
    return footprint && footprint.joules > 0 ? footprint : undefined;
  }

  /** Made once, not per call: requestFootprint() is asked on every access log line. */
  private readonly requestGiven = (): void => {
    if (this.warnedRequestGiven) return;
    this.warnedRequestGiven = true;
    this.logger.warn(
      'requestFootprint(): got a request, which has no link to its response: pass the response (no figure is given for it)',
    );
  };

  /** Every request as it ends, lent for the call (see EnergyTracker.onRequestEnd). */
  onRequestEnd(listener: EndedRequestListener): () => void {
    return this.tracker.onRequestEnd(listener);
  }

  /**
   * Counts an HTTP answer a server gave before any request reached its handler (see
   * EarlyAnswer) in `http.server.request.duration` where bindMetrics records it: no
   * `http.route`, `method` as Node parsed it if it did. No operation is begun for it. A status
   * outside 100-599 is a RangeError.
   */
  answeredEarly(status: number, options: EarlyAnswerOptions = {}): void {
    // Each status is a series of its own: only what can be one.
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`an HTTP status is a whole number from 100 to 599, not ${status}`);
    }
    if (this.afterStop('answeredEarly()') || this.earlyListeners.all.length === 0) return;
    const answer: EarlyAnswer = {
      status,
      http: {
        method: httpMethodLabel(options.method, this.settings.http.knownMethods),
        scheme: options.scheme ?? 'http',
      },
      seconds: options.seconds ?? 0,
    };
    // Its caller is a server's error handler, whose throw would end the process.
    callEach(this.earlyListeners.all, answer, this.earlyListenerFailed);
  }

  /** Every answer given before a request, as answeredEarly is told of it. */
  onEarlyAnswer(listener: EarlyAnswerListener): () => void {
    checkListener(listener, 'onEarlyAnswer');
    return this.earlyListeners.add(listener);
  }

  /**
   * Ends request tracking, takes a last sample (so energy up to now counts), stops the timer and
   * closes the sources. Once: a later call, one made while it runs too, gets the same promise, so
   * that it resolves only once what waits for the stop (register's last push) has run, not before
   * (a `process.exit()` after it would end the process before the push).
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  /**
   * Hands on what the contexts hold back; a release that throws (the application's own, a span
   * processor's onEnd) is told, not let out: it left stop() there, its listeners subscribed and
   * what waits for the stop (register's last push) never run.
   */
  private releaseHeld(): void {
    try {
      this.releaseContexts?.();
    } catch (err) {
      this.logger.warn(`could not release the operations' contexts at stop(): ${messageOf(err)}`);
    }
  }

  private async stopOnce(): Promise<void> {
    this.stopped = true;
    this.untrackRequests();
    await this.meter.stop();
    this.tracker.stop();
    this.loopEnd.disarm();
    this.releaseHeld();
    for (const off of this.unsubscribe.splice(0)) off();
    const after = atStop.get(this);
    atStop.delete(this);
    await after?.();
  }
}
