import {
  DEFAULT_CALIBRATION_INTERVAL_MS,
  DEFAULT_MAX_OPERATION_AGE_MS,
} from '../energy-defaults.js';
import { callEach, callEachKeepingFirst, checkListener, Listeners } from '../listeners.js';
import { messageOf } from '../thrown-text.js';
import { Accrued } from './accrued.js';
import { CallbackCpu } from './callback-cpu.js';
import { ChildWeights } from './child-weights.js';
import { CpuWeights } from './cpu-weights.js';
import { EndListeners } from './end-listeners.js';
import { EndedOperations } from './ended-operations.js';
import { httpEndChecker } from './http-facts.js';
import { OperationCpu } from './operation-cpu.js';
import type { ChildCpuAccount, Clock } from './probes.js';
import { RequestsEndedEarly } from './requests-ended-early.js';
import { SETTLED_SLOTS, SettlementBatch } from './settlement-batch.js';
import { measureWith, trackWith } from './track.js';
import { type OperationClass, type OperationHost, TrackedOperation } from './tracked-operation.js';
import type {
  ActiveOperation,
  DroppedListener,
  DroppedOperation,
  EndedRequest,
  EndedRequestListener,
  EndOptions,
  EnergySample,
  LentFigures,
  LentFiguresListener,
  Measured,
  MeasureOptions,
  OperationAttribution,
  OperationContext,
  OperationFootprint,
  OperationKind,
  OperationListener,
  OperationTracker,
} from './types.js';
import { WhileReporting } from './while-reporting.js';

export interface TrackerOptions {
  clock: Clock;
  /**
   * Called when an operation begins (a request: when its handler starts, see
   * ActiveOperation.captureContext); what it returns travels with the operation, is told its
   * settled footprint, and comes back in it (`context`). The OTel layer passes the operation's
   * span this way, so the tracker itself knows nothing of tracing.
   */
  captureContext?: (operation: string, kind: OperationKind) => OperationContext | undefined;
  /**
   * With captureContext: told as each settlement of the ended operations begins (true) and ends
   * (false), so what a shared release holds back is known by its settlement, and an instance's
   * stop() hands on its own alone; once a settlement, nothing per operation.
   */
  contextsSettling?: (settling: boolean) => void;
  /** True until the meter says otherwise: with no sample yet, nothing is measured. */
  estimated?: boolean;
  /** How operations share the process's energy; `calibrated` by default. */
  attribution?: OperationAttribution;
  /** `calibrated`: how often a calibration window (one sample interval) opens. */
  calibrationIntervalMs?: number;
  /**
   * Milliseconds the event loop has waited idle so far (Node's loop idle time); the time it was
   * busy is the clock's time less this. Absent: the loop counts as always busy.
   */
  loopIdle?: () => number;
  /**
   * CPU milliseconds this process has used (process.cpuUsage()), read where CPU is measured per
   * operation. Absent: the clock less the loop's idle time (busy time counts as CPU).
   */
  cpuClock?: () => number;
  /**
   * CPU milliseconds of the main thread alone (thread-cpu.ts). Where given, CPU measured per
   * operation is read from it, and the process's CPU beyond it (other threads') goes to the
   * operations whose work was out on libuv's pool (see spreadOffThread). Absent: cpuClock, which
   * holds the pool's CPU already, and no pool work is followed (see CpuClocks).
   */
  threadCpuClock?: () => number;
  /** How long an operation may run before it is dropped (see drop); an hour by default. */
  maxOperationAgeMs?: number;
  /** Operations that may run at once; beyond, the oldest is dropped. MAX_RUNNING by default. */
  maxRunning?: number;
  /**
   * `calibrated`: how many names' CPU is calibrated, the first a window sees; a later name is
   * charged its kind's figure. Carbonscope gives ENERGY_OPERATION_MAX_NAMES, as many as the
   * operation label keeps. MAX_CALIBRATED_NAMES by default.
   */
  maxCalibratedNames?: number;
  /**
   * Where an error thrown by a listener (or a context) told of an operation outside a sample
   * goes: as it ends (`onFinish`, `onRequestEnd`), or settled at once (after stop(), or beyond
   * MAX_UNSETTLED). Absent: the next sample throws the first one, as it throws its own; once
   * stopped there is no next sample, so stop() throws none (a listener's bug must not fail the
   * caller's shutdown) and the first one held or thrown from then on is a process warning
   * (process.emitWarning; its cause the error) instead.
   */
  onListenerError?: (err: unknown) => void;
  /**
   * The methods `http.request.method` names for end()'s facts (any other is `_OTHER`), as request
   * tracking's are (OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS); KNOWN_HTTP_METHODS by default.
   */
  knownHttpMethods?: readonly string[];
  /**
   * Told, once, that track() was nested MAX_NESTED_TRACKS deep on one call stack, with that
   * depth: the deeper ones run untracked (see trackWith).
   */
  onNestedTooDeep?: (depth: number) => void;
  /**
   * Called when someone starts waiting on the next sample for the figure of an ended operation
   * (settled()), none waiting since the last sample: Carbonscope then takes that sample when the
   * event loop would otherwise run empty (see LoopEndSettler, and `awaited`).
   */
  onAwaited?: () => void;
  /**
   * The values carbonscope knows to be secret, as redactionList gives them (built once, by
   * Carbonscope.create from its settings and the OTLP variables): the context of a failed
   * track() or measure() is told them with the error (OperationContext.fail), whose message may
   * echo one and goes out of the process on its span. None by default.
   */
  secrets?: readonly string[];
}

// The defaults of ENERGY_CALIBRATION_INTERVAL_MS and ENERGY_OPERATION_MAX_AGE_MS: in
// energy-defaults.ts, which the settings read without loading the tracker.
export { DEFAULT_CALIBRATION_INTERVAL_MS, DEFAULT_MAX_OPERATION_AGE_MS };
/** A name no window has measured brings the next window forward, but not closer than this. */
export const MIN_CALIBRATION_GAP_MS = 5_000;
/**
 * Ended operations waiting for a sample beyond this many are reported at once, provisional: a
 * tracker that no meter feeds must not grow without bound.
 */
export const MAX_UNSETTLED = 65_536;
/** Operations that may run at once; beyond, the oldest is dropped (see EnergyTracker.drop). */
export const MAX_RUNNING = 65_536;
/**
 * At most this many requests that ended before the meter's start are kept for the binding
 * that records their duration (see keepEarlyRequests): as many as the tracker settles at once
 * (MAX_UNSETTLED), 768 KiB at most (12 bytes each).
 */
export const MAX_REQUESTS_ENDED_EARLY = 65_536;

const NEVER_IDLE = (): number => 0;
/** What an operation no sample crossed has accrued. */
const NOTHING_ACCRUED: Readonly<Accrued> = new Accrued();
/** See EnergyTracker.mark. */
const SHORT_STRETCH_MS = 1;

/**
 * Gives every operation its share of the process's energy, following the CPU it used, and
 * reports each one once its energy is settled.
 *
 * Each sample closes an interval with the process's energy E in it. The tracker knows how long
 * the event loop was busy in that interval while at least one operation ran (B_ops) and while
 * none ran (B_idle), from Node's loop idle time read when that changes. Operations get
 * E × B_ops / (B_ops + B_idle) together, split by their CPU in the interval: measured in
 * their callbacks (`exact`), or estimated from their name's calibration (`calibrated`: an
 * ended operation its name's CPU for its duration, in proportion to its time in the interval;
 * a running one its name's density × that time; measured while a window is open), or their
 * equal share of the time with the others running (`wall`); where that CPU is measured or
 * estimated, the process's CPU while they ran that it leaves out is split equally among the
 * requests that ended (spreadOverhead). So over any
 * interval the shares add up to at most E, and to E when operations ran all the time. An operation is settled at
 * the first sample after it ends (so a blocking job is charged against the interval it ran
 * in); until then `end()` gives a provisional figure, its last part priced at the previous
 * interval's rate. The process's embodied emissions of the interval are shared the same way, by
 * the same weights, so an operation's M follows what charges its E. E here is the process's own:
 * the part of its non-Node children's CPU goes to the operations that spawned them, where known
 * (see priceChildren).
 *
 * Per operation the work is O(1): a clock read at each end, a link in the list of running
 * operations, a loop idle-time read when the first one begins or the last one ends (after a
 * stretch of 1 ms or more), and a few numbers copied into preallocated arrays when it ends.
 * The rest is done once per sample, over the operations of that interval.
 */
export class EnergyTracker implements OperationTracker, OperationHost {
  private readonly clock: Clock;
  private readonly loopIdle: () => number;
  private readonly captureContext: TrackerOptions['captureContext'];
  private readonly contextsSettling: TrackerOptions['contextsSettling'];
  private readonly attribution: OperationAttribution;
  private readonly calibrationIntervalMs: number;
  private readonly listeners = new EndListeners();
  private readonly settledListeners = new Listeners<LentFiguresListener>();
  /** What settledListeners are lent, set for each operation (see LentFigures). */
  private readonly lent: { -readonly [K in keyof LentFigures]: LentFigures[K] } = {
    operation: '',
    kind: 'operation',
    estimated: false,
    provisional: false,
    attributes: undefined,
    joules: 0,
    grams: 0,
    embodiedGrams: 0,
  };
  private readonly finishListeners = new Listeners<OperationListener>();
  private readonly requestListeners = new Listeners<EndedRequestListener>();
  private readonly dropListeners = new Listeners<DroppedListener>();
  /**
   * Requests ended before the meter's start, until a binding takes them or the first sample; see
   * keepEarlyRequests.
   */
  private endedEarly: RequestsEndedEarly | undefined;
  /** Takes the keeper off the request listeners: nothing is kept, nor called, from then on. */
  private stopKeeping: (() => void) | undefined;
  private readonly maxAgeMs: number;
  private readonly maxRunning: number;
  private droppedCount = 0;
  /**
   * The first error a listener threw outside a sample since the last one (a drop listener's,
   * or one told of an operation as it ended without onListenerError), which the sample throws.
   */
  private heldFailure: { err: unknown } | undefined;
  /** Stopped without onListenerError: whether a listener's error was made a process warning. */
  private warned = false;
  private readonly onListenerError: ((err: unknown) => void) | undefined;
  private onNestedTooDeep: ((depth: number) => void) | undefined;
  private readonly onAwaited: (() => void) | undefined;
  /** @internal trackWith's and measureWith's, for a failed operation's context. */
  readonly secrets: readonly string[] | undefined;
  /** Whether someone waits on the next sample for the figure of an ended operation. */
  private awaitedNow = false;
  private readonly weights: CpuWeights;
  private readonly childWeights: ChildWeights;
  private readonly cpu: CallbackCpu | undefined;
  private readonly threadCpu: (() => number) | undefined;
  /** The main thread's CPU clock at the last sample (at start, `exact`); NaN before. */
  private threadAt = Number.NaN;
  /** @internal OperationHost's: end()'s status and facts, checked and interned. */
  readonly checkHttpEnd: OperationHost['checkHttpEnd'];

  /**
   * Running operations: a doubly linked list through the operations themselves, the latest
   * begun at its head, the oldest at its tail.
   */
  private head: TrackedOperation | null = null;
  private tail: TrackedOperation | null = null;
  private runningCount = 0;
  /** Ended since the last sample, waiting for it. */
  private readonly ended = new EndedOperations();
  /**
   * Where the settled figures of those ended with end() go, for settled(): the interval's
   * batches, the one at `j` for the ended operations from j × SETTLED_SLOTS on (none where no
   * operation there was kept). An array reused from interval to interval.
   */
  private readonly batches: Array<SettlementBatch | undefined> = [];
  /** What a listener's call asked of the tracker while it reported, for after the report. */
  private readonly whileReporting = new WhileReporting();

  private readonly createdMs: number;
  private intervalStartMs: number | undefined;
  /**
   * The first ended operation the interval now running measured: those before it ended before
   * the meter's baseline (see baseline) and get none of its energy but their children's. 0 but
   * in the first interval.
   */
  private metered = 0;
  /** Samples settled so far: the interval now running is this one. */
  private intervals = 0;
  /** Loop time of the interval so far, while operations ran and while none did. */
  private markMs = 0;
  private markIdle = 0;
  private busyWithOps = 0;
  private busyWithout = 0;
  private wallWithOps = 0;
  private wallWithout = 0;
  /** ∫ 1 / (operations running) dt: what each running operation has had of the time. */
  private shared = 0;
  private sharedAt = 0;

  /**
   * What the operations reported at once beyond MAX_UNSETTLED got of the interval now running,
   * at the last interval's price: the sample takes it out of what it shares among the rest, so
   * the operations get no more than the process used. Where it was more than the operations'
   * part of that interval (the price fell), what is left over comes out of the next intervals.
   */
  private advancedJoules = 0;
  private advancedEmbodied = 0;
  /**
   * Their weight in the interval now running: still part of what the interval's price is
   * worked out over, and (calibrated) of the CPU their estimates account for.
   */
  private advancedWeight = 0;
  /**
   * The process's energy (its own, and embodied) the samples measured that no operation has
   * had yet: what an operation reported at once beyond MAX_UNSETTLED may take, no more. Its
   * interval's energy is not known until the sample, nor is any bound on it (the price per CPU
   * ms falls as much as the host's power), and its figure, once reported, cannot be taken back:
   * at the last price alone, rows past the bound in the run's last interval took more than the
   * process used, with no next interval to repay it.
   */
  private spareJoules = 0;
  private spareEmbodied = 0;
  /** Joules per unit of weight in the last interval: the price of provisional figures. */
  private price = 0;
  /** Embodied grams per unit of weight in the last interval, likewise. */
  private embodiedPrice = 0;
  /**
   * The sample being settled's price of a child's CPU ms, in joules and embodied grams, and
   * what of each ms charged (or guessed, see ChildWeights) it gives (see priceChildren).
   */
  private childJoulesPerMs = 0;
  private childEmbodiedPerMs = 0;
  private childScale = 0;
  private childGuessScale = 0;
  /**
   * What each request got of the last interval's overhead (see spreadOverhead), in weight:
   * part of a request's provisional figure.
   */
  private overheadEach = 0;
  /**
   * overheadEach as the last calibration window's interval measured it: what the requests are
   * owed of an interval's CPU before operations no window measured take what is left.
   */
  private windowOverheadEach = 0;
  /** Set while weighing when some operation was weighed by its time, not its CPU. */
  private byTime = false;
  private gramsPerJoule = 0;
  private estimated: boolean;
  private stopped = false;

  private window = 0;
  private windowOpen = false;
  /**
   * Operations begun in a window (CPU measured) that ended since the last sample: learnChildren
   * walks the ended ones only where there is one (between windows, most samples have none).
   */
  private windowEnded = 0;
  private lastWindowMs = Number.NEGATIVE_INFINITY;
  private uncalibrated = false;

  constructor(options: TrackerOptions) {
    this.clock = options.clock;
    this.loopIdle = options.loopIdle ?? NEVER_IDLE;
    this.captureContext = options.captureContext;
    this.contextsSettling = options.contextsSettling;
    this.estimated = options.estimated ?? true;
    this.attribution = options.attribution ?? 'calibrated';
    this.calibrationIntervalMs = options.calibrationIntervalMs ?? DEFAULT_CALIBRATION_INTERVAL_MS;
    this.maxAgeMs = options.maxOperationAgeMs ?? DEFAULT_MAX_OPERATION_AGE_MS;
    this.maxRunning = Math.max(1, options.maxRunning ?? MAX_RUNNING);
    this.weights = new CpuWeights(options.maxCalibratedNames);
    this.childWeights = new ChildWeights(options.maxCalibratedNames);
    this.onListenerError = options.onListenerError;
    this.onNestedTooDeep = options.onNestedTooDeep;
    this.onAwaited = options.onAwaited;
    this.secrets = options.secrets;
    this.checkHttpEnd = httpEndChecker(options.knownHttpMethods);
    if (this.attribution !== 'wall') {
      const { clock, loopIdle } = this;
      this.cpu = new CallbackCpu(
        {
          cpu: options.threadCpuClock ?? options.cpuClock ?? (() => clock() - loopIdle()),
          mainThread: options.threadCpuClock !== undefined,
          wall: clock,
          loopIdle,
        },
        this.attribution === 'calibrated',
      );
    }
    this.threadCpu = options.threadCpuClock;
    if (this.attribution === 'exact') {
      this.cpu?.start();
      this.threadAt = this.threadCpu?.() ?? Number.NaN;
    }
    this.createdMs = this.clock();
    this.sharedAt = this.createdMs;
    this.markMs = this.createdMs;
    this.markIdle = this.loopIdle();
    this.keepEarlyRequests();
  }

  /**
   * Keeps the requests that end before the meter's start, while the power sources are probed
   * (a second or more for a slow nvidia-smi: register and the instrumentation track requests
   * then), for the binding that records `http.server.request.duration`: none listens before its
   * start ended, and their durations were lost (1 of 15 recorded where their energy was 15). A
   * listener of the requests until the start (meterStarted, or the taker), then none: nothing
   * per request after it. Not until the baseline: the default instance's is at create(), before
   * the probe. Handed over once (replayRequestsEndedEarly), or let go at the first sample.
   */
  private keepEarlyRequests(): void {
    const keep = (request: EndedRequest) => {
      this.endedEarly ??= new RequestsEndedEarly(MAX_REQUESTS_ENDED_EARLY);
      this.endedEarly.add(request);
    };
    this.stopKeeping = this.requestListeners.add(keep);
  }

  /**
   * The meter started (its start() resolves next): the bindings listen from here, and no
   * request is kept, nor calls anything of the tracker's, from now on.
   */
  meterStarted(): void {
    this.endKeeping(false);
  }

  /** No more are kept; those kept stay for their taker until `release`. */
  private endKeeping(release: boolean): void {
    this.stopKeeping?.();
    this.stopKeeping = undefined;
    if (release) this.endedEarly = undefined;
  }

  /**
   * Hands the requests that ended before the baseline to `record` once, in the order they ended
   * (each lent for the call), and keeps none: the caller listens from now on (onRequestEnd).
   * Returns how many ended past MAX_REQUESTS_ENDED_EARLY, which are in no record.
   */
  replayRequestsEndedEarly(record: EndedRequestListener): number {
    this.endKeeping(false);
    const early = this.endedEarly;
    this.endedEarly = undefined;
    if (!early) return 0;
    const dropped = early.dropped;
    early.replay(record);
    return dropped;
  }

  /** Operations running now. */
  get active(): number {
    return this.runningCount;
  }

  /**
   * Ended operations waiting for the next sample to settle them. While the tracker reports,
   * those it reports are settled, and the ones a listener ended in its call wait (see
   * WhileReporting): they are counted, the others not, and MAX_UNSETTLED bounds them alike.
   */
  get pending(): number {
    return this.whileReporting.active ? this.whileReporting.endedCount : this.ended.length;
  }

  /**
   * True while someone waits on the next sample for the figure of an ended operation: every one
   * awaited is of the interval that sample settles (an earlier one's figure is there already).
   */
  get awaited(): boolean {
    return this.awaitedNow;
  }

  /** Operations dropped from sharing since the start (see drop). */
  get dropped(): number {
    return this.droppedCount;
  }

  get mode(): OperationAttribution {
    return this.attribution;
  }

  /** True when operations carry a context (the OTel layer's spans). */
  get capturesContext(): boolean {
    return this.captureContext !== undefined;
  }

  /** True while CPU time is measured per operation (`exact`, or a calibration window). */
  get measuringCpu(): boolean {
    return this.cpu?.measuring ?? false;
  }

  /**
   * The account of the operation the current call runs for, where CPU is measured (`exact`, a
   * calibration window): ChildrenCpu asks it as a child is spawned, and charges that child's
   * CPU to it. Undefined between windows (nothing is kept per request then) or outside any.
   */
  childAccount(): ChildCpuAccount | undefined {
    const owner = this.cpu?.owner();
    return owner instanceof OperationCpu ? owner : undefined;
  }

  /** Each name's calibrated CPU density (CPU ms per ms of running). */
  cpuDensities(): Array<[string, number]> {
    return this.weights.entries();
  }

  /**
   * Calls `listener` with the settled footprint of every operation, or of those of
   * `options.kinds`; returns its unsubscribe.
   */
  onEnd(listener: OperationListener, options?: EndOptions): () => void {
    checkListener(listener, 'onEnd');
    return this.listeners.add(listener, options);
  }

  /**
   * onEnd for listeners that read a few figures and keep nothing (carbonscope's scores and
   * histograms, a dashboard's totals): they are lent one object, set for each operation (see
   * LentFigures), where onEnd's are given a footprint built for each. Called before onEnd's.
   */
  onSettled(listener: LentFiguresListener): () => void {
    checkListener(listener, 'onSettled');
    return this.settledListeners.add(listener);
  }

  /**
   * Calls `listener` as each operation ends, with its provisional footprint: for what does not
   * wait for the energy (request counts, latency). Returns its unsubscribe.
   */
  onFinish(listener: OperationListener): () => void {
    checkListener(listener, 'onFinish');
    return this.finishListeners.add(listener);
  }

  /**
   * Calls `listener` as each request ends, with the request itself rather than a footprint:
   * request counts and latency need no energy, and a footprint per request is an object to
   * build on the hot path. Returns its unsubscribe.
   */
  onRequestEnd(listener: EndedRequestListener): () => void {
    checkListener(listener, 'onRequestEnd');
    return this.requestListeners.add(listener);
  }

  /** Calls `listener` with each operation dropped from sharing (see drop); returns its unsubscribe. */
  onDrop(listener: DroppedListener): () => void {
    checkListener(listener, 'onDrop');
    return this.dropListeners.add(listener);
  }

  begin(operation: string, kind: OperationKind = 'operation'): ActiveOperation {
    return this.beginAs(TrackedOperation, operation, kind);
  }

  /**
   * @internal begin() of an operation of a class of its caller's: request tracking's open
   * request is its operation (see OpenRequest), one object a request where it was two.
   */
  beginAs<T extends TrackedOperation>(
    Operation: OperationClass<T>,
    operation: string,
    kind: OperationKind,
  ): T {
    const now = this.clock();
    if (this.runningCount === 0) this.mark(now);
    this.share(now);
    if (this.runningCount >= this.maxRunning)
      this.drop(this.tail as TrackedOperation, now, 'running');
    this.runningCount++;
    const op = new Operation(this, operation, kind, now);
    op.shareFrom = this.shared;
    op.next = this.head;
    if (this.head) this.head.prev = op;
    else this.tail = op;
    this.head = op;
    const cpu = this.cpu;
    if (cpu?.measuring) {
      // A request is announced where Node parses it: it owns the rest of that callback.
      const request = kind === 'request';
      op.cpu = new OperationCpu(op, this.window, request);
      if (request) cpu.enter(op.cpu);
    }
    if (this.captureContext && kind !== 'request') {
      op.context = this.captureContext(operation, kind);
    }
    return op;
  }

  track<T>(operation: string, fn: () => PromiseLike<T>): Promise<T>;
  track<T>(operation: string, fn: () => T): T;
  track<T>(operation: string, fn: () => T): T {
    return trackWith(this, operation, fn);
  }

  /** @internal trackWith's: told once, whatever the depth later. */
  nestedTooDeep(depth: number): void {
    const tell = this.onNestedTooDeep;
    this.onNestedTooDeep = undefined;
    tell?.(depth);
  }

  measure<T>(
    operation: string,
    fn: () => T | PromiseLike<T>,
    options?: MeasureOptions<T>,
  ): Promise<Measured<T>> {
    return measureWith(this, operation, fn, options);
  }

  /**
   * The meter's baseline is set: its first interval begins now. What ran before (register's
   * requests while the power sources were probed) is in no reading: an operation that ended
   * before gets none of that interval's energy, and is reported with it, at 0 J but for what
   * its children (where spawns are followed) use from now on; one running gets its share of
   * what it ran (and, measured, used) from now on. Nothing after the first
   * sample: every later interval begins at the sample before. `estimated`: whether the host's
   * power source is an estimate, the provisional figures' flag until the first sample. Once: a
   * baseline taken as the tracker was made (the default instance's, see EarlyBaseline) stands,
   * and the meter's start only says what its source is.
   */
  baseline(estimated: boolean): void {
    if (this.intervals > 0 || this.stopped) return;
    this.estimated = estimated;
    if (this.intervalStartMs !== undefined) return;
    const now = this.clock();
    this.mark(now, true);
    this.share(now);
    this.busyWithOps = 0;
    this.busyWithout = 0;
    this.wallWithOps = 0;
    this.wallWithout = 0;
    // What went beyond MAX_UNSETTLED before got 0 J: no weight of the first interval's either.
    this.advancedWeight = 0;
    this.intervalStartMs = now;
    this.metered = this.ended.length;
    // A pool job out now is charged its time so far here, left behind with the rest.
    this.cpu?.chargePoolOut();
    // Those ended take no CPU of their own from here, but their rows are kept until the first
    // sample, as any operation's until the one after its end: their children still running
    // take what they use from now on (priceChildren), not what they used before.
    for (let i = 0; i < this.metered; i++) {
      const cpu = this.ended.op(i)?.cpu;
      if (cpu) cpu.childAtSample = cpu.childMs;
    }
    for (let op = this.head; op; op = op.next) {
      op.shareFrom = this.shared;
      if (op.cpu) {
        op.cpu.busyAtSample = op.cpu.busyMs;
        op.cpu.poolAtSample = op.cpu.poolMs;
        op.cpu.childAtSample = op.cpu.childMs;
      }
    }
    if (this.threadCpu) this.threadAt = this.threadCpu();
  }

  /**
   * Fed every sample: settles the interval that ends with it. The operations that ran in it
   * (ended or not) get their share of its process energy; those that ended in it are reported.
   */
  update(sample: EnergySample): void {
    if (this.whileReporting.active) {
      this.whileReporting.addSample(sample);
      return;
    }
    // A binding takes them as its start ends, before this: none did (no `http` recorded).
    if (this.stopKeeping || this.endedEarly) this.endKeeping(true);
    const now = sample.nowMs;
    const from = this.intervalStartMs ?? now - sample.elapsedMs;
    this.mark(now, true);
    this.share(now);
    const threadMs = this.threadSince();
    this.cpu?.chargePoolOut();
    if (this.intervalStartMs === undefined && this.createdMs > from) {
      // Before the tracker existed no operation ran; how busy the loop was is not known.
      this.busyWithout += this.createdMs - from;
      this.wallWithout += this.createdMs - from;
    }
    // The children's part of the process's energy is not shared by the operations' own CPU
    // (so it went to whatever JS ran beside the one that waited): it goes to the operations
    // that spawned them, where that is known (priceChildren), else to none.
    const ownCpu = ownCpuSeconds(sample);
    const own = sample.processCpuSeconds > 0 ? ownCpu / sample.processCpuSeconds : 1;
    const joules = nonNegative(sample.processJoules) * own;
    const embodied = nonNegative(sample.processEmbodiedGrams) * own;
    const { ended } = this;
    this.priceChildren(sample, joules, embodied, from, now);
    const childPrice = this.childJoulesPerMs;
    const childEmbodiedPrice = this.childEmbodiedPerMs;

    let busy = this.busyWithOps + this.busyWithout;
    let withOps = this.busyWithOps;
    if (!(busy > 0)) {
      busy = this.wallWithOps + this.wallWithout;
      withOps = this.wallWithOps;
    }
    // The operations' part of the interval: of its energy, and by the same share (the same
    // weights below) of the process's embodied emissions, so M follows what charges E.
    const opsShare = busy > 0 ? withOps / busy : 0;
    const allOpsJoules = joules * opsShare;
    const allOpsEmbodied = embodied * opsShare;
    const opsJoules = Math.max(allOpsJoules - this.advancedJoules, 0);
    const opsEmbodied = Math.max(allOpsEmbodied - this.advancedEmbodied, 0);
    this.advancedJoules = Math.max(this.advancedJoules - allOpsJoules, 0);
    this.advancedEmbodied = Math.max(this.advancedEmbodied - allOpsEmbodied, 0);
    const advancedWeight = this.advancedWeight;
    this.advancedWeight = 0;

    let total = 0;
    let requests = 0;
    let guessed = 0;
    let guessedFresh = 0;
    this.byTime = false;
    const first = this.metered;
    for (let i = 0; i < first; i++) ended.setWeight(i, 0);
    for (let i = first; i < ended.length; i++) {
      if (ended.kind(i) === 'request') requests++;
      const busy = ended.op(i)?.cpu?.sinceSample() ?? Number.NaN;
      const w = this.weigh(
        ended.name(i),
        ended.kind(i),
        busy,
        overlap(ended.startMs(i), from, Math.min(ended.endMs(i), now)),
        ended.share(i),
        ended.endMs(i) - ended.startMs(i),
      );
      ended.setWeight(i, w);
      total += w;
      if (this.guessed(ended.name(i), busy)) {
        guessed += w;
        if (ended.startMs(i) >= from) guessedFresh += w;
      }
    }
    for (let op = this.head; op; op = op.next) {
      const w = this.weighRunning(op, from, now);
      total += w;
      if (op.accrued?.guessed) guessed += w;
    }
    this.overheadEach = 0;
    if (total > 0 && !this.byTime) {
      const cpuWithOps = Math.max((ownCpu * 1000 * withOps) / busy - advancedWeight, 0);
      // The calibrated names alone claim all the CPU or more: their figures are too high here.
      const claimed = total - guessed;
      const kept = claimed >= cpuWithOps ? guessedFresh : 0;
      // Beyond its main thread's, the process's own CPU (its children's left out) was other
      // threads'. It is measured: it comes before the guesses, which capGuesses scales to
      // what is left (weighed against them, a stream's guess took a pool job's CPU).
      const offThread = ownCpu * 1000 - threadMs;
      total += this.spreadOffThread(Math.min(offThread, cpuWithOps - claimed));
      const owed = requests * this.windowOverheadEach;
      const known = total - guessed;
      total -= this.capGuesses(guessed, cpuWithOps - known - owed, kept, from);
      total += this.spreadOverhead(cpuWithOps - total);
      if (this.windowOpen && requests > 0) this.learnOverhead(guessed > 0);
    } else if (!(total > 0)) {
      // No CPU told the operations apart (none measured, or all calibrated at 0): by time.
      for (let i = first; i < ended.length; i++) {
        ended.setWeight(i, Math.max(ended.share(i), 0));
        total += ended.weight(i);
      }
      for (let op = this.head; op; op = op.next) {
        const accrued = op.accrued as Accrued; // weighRunning made it
        accrued.weight = Math.max(this.shared - op.shareFrom, 0);
        total += accrued.weight;
      }
    }
    const price = total > 0 ? opsJoules / total : 0;
    const embodiedPrice = total > 0 ? opsEmbodied / total : 0;
    this.spareJoules += joules - (total > 0 ? opsJoules : 0);
    this.spareEmbodied += embodied - (total > 0 ? opsEmbodied : 0);
    const perJoule = sample.gramsPerJoule;
    // The interval's energy is the sources' in use now; the totals' `estimated` is sticky.
    const estimated = sample.totals.process.wattsEstimated;
    for (let i = 0; i < ended.length; i++) {
      const weight = ended.weight(i);
      const children = childPrice > 0 ? this.endedChildMs(i, first, from, now) : 0;
      const piece = weight * price + children * childPrice;
      const embodiedPiece = weight * embodiedPrice + children * childEmbodiedPrice;
      ended.settle(i, piece, piece * perJoule, embodiedPiece, estimated);
    }
    for (let op = this.head; op; op = op.next) {
      const accrued = op.accrued as Accrued;
      const children = childPrice > 0 ? this.childMs(op.cpu, this.guessRunning, op, from, now) : 0;
      const piece = accrued.weight * price + children * childPrice;
      accrued.joules += piece;
      accrued.grams += piece * perJoule;
      accrued.embodiedGrams += accrued.weight * embodiedPrice + children * childEmbodiedPrice;
      if (estimated) accrued.estimated = true;
      if (op.cpu) {
        op.cpu.busyAtSample = op.cpu.busyMs;
        op.cpu.poolAtSample = op.cpu.poolMs;
        op.cpu.childAtSample = op.cpu.childMs;
      }
      op.shareFrom = this.shared;
    }
    this.cpu?.forgetSettled();

    // The next provisional figures' price is the whole interval's, theirs counted in it.
    const weighed = total + advancedWeight;
    this.price = weighed > 0 ? allOpsJoules / weighed : busy > 0 ? joules / busy : 0;
    this.embodiedPrice = weighed > 0 ? allOpsEmbodied / weighed : busy > 0 ? embodied / busy : 0;
    this.gramsPerJoule = perJoule;
    this.estimated = estimated;
    this.intervalStartMs = now;
    this.intervals++;
    this.metered = 0;
    this.busyWithOps = 0;
    this.busyWithout = 0;
    this.wallWithOps = 0;
    this.wallWithout = 0;

    this.dropOld(now);
    this.learnChildren();
    this.calibrate(now);
    try {
      this.reportEnded(false);
    } finally {
      this.afterReport();
    }
    const failure = this.heldFailure;
    this.heldFailure = undefined;
    if (failure) throw failure.err;
  }

  /**
   * No more samples (the meter stopped): what waits is reported with its provisional figure,
   * and so is every operation that ends from now on.
   */
  stop(): void {
    if (this.stopped) return;
    if (this.whileReporting.active) {
      this.whileReporting.stop = true;
      return;
    }
    this.stopped = true;
    this.endKeeping(true);
    this.cpu?.stop();
    const held = this.heldFailure;
    this.heldFailure = undefined;
    if (held) this.listenerFailed(held.err);
    try {
      this.reportEnded(true);
    } catch (err) {
      this.listenerFailed(err);
    }
    this.afterReport();
  }

  /**
   * What a listener asked for in its call while the tracker reported, in order: the operations
   * it ended wait for the next sample, its samples are settled, then its stop() is done. A
   * failure there is a listener's outside the sample that reported.
   */
  private afterReport(): void {
    const later = this.whileReporting;
    later.takeEnded(this.pendLater);
    for (let sample = later.nextSample(); sample; sample = later.nextSample()) {
      try {
        this.update(sample);
      } catch (err) {
        this.listenerFailed(err);
      }
    }
    if (!later.stop) return;
    later.stop = false;
    this.stop();
  }

  /** @internal called once, by TrackedOperation.end or close */
  finish(op: TrackedOperation, kept: boolean): OperationFootprint | undefined {
    const now = this.clock();
    op.endMs = Math.max(now, op.startMs);
    if (this.runningCount === 1) this.mark(now);
    this.share(now);
    op.shareEnd = this.shared;
    op.endInterval = this.intervals;
    this.unlink(op);
    const atOnce = this.stopped || this.pending >= MAX_UNSETTLED;
    if (atOnce && !this.stopped) return this.advance(op);
    const footprint =
      kept || atOnce || this.finishListeners.all.length > 0 ? this.provisional(op) : undefined;
    // end()'s figure, set before the listeners are told: a sample one takes in its call
    // (cs.stop() takes its last at once) found it unset, settled it unread, and its settled()
    // never resolved.
    if (kept) op.atEnd = footprint;
    if (atOnce) this.reportNow(op.context, op, footprint as OperationFootprint);
    else if (this.whileReporting.active) this.whileReporting.addEnded(op, kept);
    else this.pend(op, kept);
    this.told(op, footprint);
    return footprint;
  }

  /**
   * Reports `op` at once, beyond MAX_UNSETTLED: its part of the interval now running at the last
   * price, but no more than the spare energy (see spareJoules), so that the operations never add
   * up to more than the process used, even where no sample comes after (stop()).
   */
  private advance(op: TrackedOperation): OperationFootprint {
    const weight = this.weightAtEnd(op);
    const joules = Math.min(weight * this.price, this.spareJoules);
    const embodied = Math.min(weight * this.embodiedPrice, this.spareEmbodied);
    const footprint = this.provisionalOf(
      op.name,
      op.kind,
      joules,
      embodied,
      op.startMs,
      op.endMs,
      op.accrued ?? NOTHING_ACCRUED,
      op,
    );
    this.spareJoules = Math.max(this.spareJoules - joules, 0);
    this.spareEmbodied = Math.max(this.spareEmbodied - embodied, 0);
    this.advancedJoules += joules;
    this.advancedEmbodied += embodied;
    this.advancedWeight += weight;
    this.reportNow(op.context, op, footprint);
    this.told(op, footprint);
    return footprint;
  }

  /**
   * The onFinish and onRequestEnd listeners, as `op` ends. What they throw never fails its
   * end(): that is the caller's code (a job's track(), a request's response), not theirs.
   */
  private told(op: TrackedOperation, footprint: OperationFootprint | undefined): void {
    callEach(this.finishListeners.all, footprint as OperationFootprint, this.failedLater);
    if (op.kind !== 'request') return;
    callEach(this.requestListeners.all, op, this.failedLater);
  }

  /** report() as an operation ends, settled at once: a listener's error is held, not thrown. */
  private reportNow(
    context: OperationContext | undefined,
    op: TrackedOperation,
    footprint: OperationFootprint,
  ): void {
    // Settled outside a sample (dropped, past MAX_UNSETTLED, after stop()), its span is paced as
    // a sample's are: told as a settlement, or a shared release takes it for no instance's, and
    // this one's stop() leaves it. Never on an ordinary end; inside reportEnded, already told.
    const tell = context && !this.whileReporting.active ? this.contextsSettling : undefined;
    tell?.(true);
    try {
      this.report(context, op, footprint);
    } catch (err) {
      this.listenerFailed(err);
    } finally {
      tell?.(false);
    }
  }

  /** listenerFailed, bound: for a rejection, which comes after the call that made it. */
  private readonly failedLater = (err: unknown): void => this.listenerFailed(err);

  /**
   * A listener's error outside a sample: to onListenerError, else to the next sample, or once
   * stopped (no next sample) to a process warning.
   */
  private listenerFailed(err: unknown): void {
    if (!this.onListenerError) {
      if (!this.stopped) this.heldFailure ??= { err };
      else if (!this.warned) {
        this.warned = true;
        process.emitWarning(stoppedListenerWarning(err));
      }
      return;
    }
    try {
      this.onListenerError(err);
    } catch {
      // Its own failure has nowhere left to go but the caller's end(), which it must not fail.
    }
  }

  /**
   * pend, bound: for an operation ended while the tracker reported. One awaited then was told
   * (waitedFor) before the report's end said no one waits: told again, or the loop's end took
   * no sample for it and its settled() waited for the meter's next one. MAX_UNSETTLED holds
   * without a check here: the report emptied the list, and finish() kept no more aside.
   */
  private readonly pendLater = (op: TrackedOperation, kept: boolean): void => {
    this.pend(op, kept);
    if (op.awaited) this.waitedFor();
  };

  /** Takes a running operation out of the list (the number running drops). */
  private unlink(op: TrackedOperation): void {
    this.runningCount--;
    if (op.prev) op.prev.next = op.next;
    else this.head = op.next;
    if (op.next) op.next.prev = op.prev;
    else this.tail = op.prev;
    op.prev = null;
    op.next = null;
  }

  /**
   * At a sample, after it settled the interval: drops every operation that has run
   * maxOperationAgeMs or longer. The list is in the order they began, so the oldest are at its
   * tail: this reads one operation more than it drops, whatever the number running.
   */
  private dropOld(now: number): void {
    for (let op = this.tail; op && now - op.startMs >= this.maxAgeMs; op = this.tail) {
      this.drop(op, now, 'age');
    }
  }

  /**
   * Stops sharing the process's energy with a running operation: too old, or the oldest of too
   * many (most often begun with begin() and never ended, which would otherwise take a share of
   * every interval, and a place in the list, for ever). It keeps what it got (at a sample: of
   * that interval too; dropped between samples, the rest of its interval is the others'), so
   * the operations never get more than the process used. The tracker keeps nothing of it: its
   * end, if it comes, goes to droppedHost and reports it at once with what it got.
   */
  private drop(op: TrackedOperation, now: number, reason: DroppedOperation['reason']): void {
    if (this.runningCount === 1) this.mark(now);
    this.share(now);
    this.unlink(op);
    op.host = this.droppedHost;
    this.droppedCount++;
    const dropped: DroppedOperation = {
      operation: op.name,
      kind: op.kind,
      ageMs: now - op.startMs,
      reason,
    };
    // What one throws is thrown at the next sample's end: here it would fail a request's begin().
    const failure = callEachKeepingFirst(this.dropListeners.all, dropped, this.failedLater);
    this.heldFailure ??= failure;
  }

  /**
   * @internal Forgets a running operation as if it had never begun: it takes no share from now
   * on, and its end reports nothing (a request that turned out to be a scrape of the metrics).
   * For operations nobody awaits: request tracking's own. Returns whether it was discarded: not
   * one of another tracker's, dropped or ended (unlinked again, it took the running count below
   * zero), nor one whose context was captured (a server span, held open until its figures
   * settle: discarded, it was never ended nor exported).
   */
  discard(op: ActiveOperation): boolean {
    if (!(op instanceof TrackedOperation) || op.host !== this || op.ended || op.context) {
      return false;
    }
    const now = this.clock();
    if (this.runningCount === 1) this.mark(now);
    this.share(now);
    this.unlink(op);
    op.host = this.discardedHost;
    return true;
  }

  /** Where a dropped operation's end and work go: it runs still, but in no list. */
  private readonly droppedHost: OperationHost = {
    finish: (op, kept) => this.finishDropped(op, kept),
    // Never asked: a dropped operation ends with its figure settled, and settled() finds it.
    hold: () => undefined,
    runIn: (op, fn) => this.runIn(op, fn),
    capture: (op) => this.capture(op),
    checkHttpEnd: (status, facts) => this.checkHttpEnd(status, facts),
  };

  /** Where a discarded operation's end goes: told to no one. */
  private readonly discardedHost: OperationHost = {
    ...this.droppedHost,
    finish: (op, kept) => this.finishDropped(op, kept, false),
  };

  /**
   * The end of a dropped operation: settled at once, with what it got until it was dropped;
   * reported, unless it was discarded.
   */
  private finishDropped(
    op: TrackedOperation,
    kept: boolean,
    report = true,
  ): OperationFootprint | undefined {
    op.endMs = Math.max(this.clock(), op.startMs);
    const got = op.accrued ?? NOTHING_ACCRUED;
    const footprint: OperationFootprint = {
      operation: op.name,
      kind: op.kind,
      durationSeconds: (op.endMs - op.startMs) / 1000,
      joules: got.joules,
      grams: got.grams,
      embodiedGrams: got.embodiedGrams,
      estimated: op.accrued ? got.estimated : this.estimated,
      provisional: false,
      context: op.context,
      status: op.status,
      http: op.http,
      attributes: op.attributes,
    };
    if (report) {
      this.reportNow(op.context, op, footprint);
      this.told(op, footprint);
    }
    return kept ? footprint : undefined;
  }

  /**
   * Waits for the next sample. The operation itself is held where its CPU is read still or
   * someone waits for its figure; one ended with end() otherwise gets its settled figure in the
   * interval's batch, where it finds it, and nothing holds it: its caller most often drops it.
   */
  private pend(op: TrackedOperation, kept: boolean): void {
    const cpu = op.cpu;
    const measured = cpu?.measured === true;
    if (measured && cpu.window > 0) this.windowEnded++;
    const hold = measured || op.awaited;
    const index = this.ended.push(op, hold, kept && !hold);
    if (kept && !hold) {
      const j = Math.floor(index / SETTLED_SLOTS);
      while (this.batches.length <= j) this.batches.push(undefined);
      this.batches[j] ??= new SettlementBatch();
      op.batch = this.batches[j];
      op.index = index;
    }
  }

  /**
   * @internal someone now waits for the settled figure of an ended operation. Only one of the
   * current interval needs holding: an earlier batch is settled, and settled() found it there.
   */
  hold(op: TrackedOperation): void {
    if (op.batch && !op.batch.settled) this.ended.hold(op.index, op);
    this.waitedFor();
  }

  /** Someone waits on the next sample: told once per sample (see onAwaited). */
  private waitedFor(): void {
    if (this.awaitedNow) return;
    this.awaitedNow = true;
    this.onAwaited?.();
  }

  /**
   * The provisional footprint `op` had as it ended, worked out now, for one of this tracker's
   * operations that ended in the interval still running: the price, weights and overhead it
   * was figured with change only at a sample, so it is the figure end() gave, or would have
   * (where its CPU is measured, with what its callbacks measured since its end: the sample
   * counts those too). Undefined while it runs, and once a sample settled it: its settled
   * figure went to the onEnd listeners then, and one worked out at the new price would be
   * neither. Undefined too before the first sample, which has no price yet: its 0 J would read
   * as a free request.
   */
  footprintAtEnd(op: ActiveOperation): OperationFootprint | undefined {
    if (!(op instanceof TrackedOperation) || op.host !== this || !op.ended) return undefined;
    if (op.endInterval !== this.intervals || this.intervals === 0) return undefined;
    return op.atEnd ?? this.provisional(op);
  }

  /** Its figure now: what earlier samples gave it, and its last part at the last price. */
  private provisional(op: TrackedOperation): OperationFootprint {
    const weight = this.weightAtEnd(op);
    return this.provisionalOf(
      op.name,
      op.kind,
      weight * this.price,
      weight * this.embodiedPrice,
      op.startMs,
      op.endMs,
      op.accrued ?? NOTHING_ACCRUED,
      op,
    );
  }

  /** An ended operation's weight in the interval now running (see lastWeight). */
  private weightAtEnd(op: TrackedOperation): number {
    const measured = op.cpu?.sinceSample() ?? Number.NaN;
    return this.lastWeight(
      op.name,
      op.kind,
      op.cpu && this.cpu ? measured + this.cpu.unread(op.cpu) : measured,
      op.startMs,
      op.endMs,
      op.shareEnd - op.shareFrom,
    );
  }

  /** The same for the ended operation at `i`, from what the list kept of it. */
  private provisionalAt(i: number): OperationFootprint {
    const { ended } = this;
    const weight = this.lastWeight(
      ended.name(i),
      ended.kind(i),
      Number.NaN,
      ended.startMs(i),
      ended.endMs(i),
      ended.share(i),
    );
    return this.provisionalOf(
      ended.name(i),
      ended.kind(i),
      weight * this.price,
      weight * this.embodiedPrice,
      ended.startMs(i),
      ended.endMs(i),
      {
        joules: ended.joules(i),
        grams: ended.grams(i),
        embodiedGrams: ended.embodied(i),
        estimated: ended.estimated(i),
      },
      {
        context: ended.context(i),
        status: ended.status(i),
        http: ended.http(i),
        attributes: ended.attributes(i),
      },
    );
  }

  /**
   * What `earlier` samples gave an operation, and `last` joules and `lastEmbodied` grams of the
   * interval now running (its weight there at the last price, as a rule).
   */
  private provisionalOf(
    name: string,
    kind: OperationKind,
    last: number,
    lastEmbodied: number,
    startMs: number,
    endMs: number,
    earlier: Readonly<Pick<Accrued, 'joules' | 'grams' | 'embodiedGrams' | 'estimated'>>,
    about: Pick<OperationFootprint, 'context' | 'status' | 'http' | 'attributes'>,
  ): OperationFootprint {
    return {
      operation: name,
      kind,
      durationSeconds: (endMs - startMs) / 1000,
      joules: earlier.joules + last,
      grams: earlier.grams + last * this.gramsPerJoule,
      embodiedGrams: earlier.embodiedGrams + lastEmbodied,
      estimated: earlier.estimated || this.estimated,
      provisional: true,
      context: about.context,
      status: about.status,
      http: about.http,
      attributes: about.attributes,
    };
  }

  /** An ended operation's weight in the interval now running, its request overhead with it. */
  private lastWeight(
    name: string,
    kind: OperationKind,
    cpuMs: number,
    startMs: number,
    endMs: number,
    share: number,
  ): number {
    const from = this.intervalStartMs ?? startMs;
    const overhead = kind === 'request' ? this.overheadEach : 0;
    return (
      this.weigh(name, kind, cpuMs, overlap(startMs, from, endMs), share, endMs - startMs) +
      overhead
    );
  }

  /** @internal */
  runIn<T>(op: TrackedOperation, fn: () => T): T {
    const cpu = this.cpu;
    if (!cpu?.measuring) return fn();
    op.cpu ??= new OperationCpu(op, 0, true);
    op.cpu.measured = true;
    return cpu.run(op.cpu, fn);
  }

  /** @internal */
  capture(op: TrackedOperation): void {
    if (!op.context && this.captureContext) op.context = this.captureContext(op.name, op.kind);
  }

  /**
   * Closes the loop time since the last mark: busy (not waiting idle) while operations ran, or
   * while none did. Called when that changes and (`always`) at every sample. A stretch shorter
   * than SHORT_STRETCH_MS counts as busy without reading the idle time (it had no time to wait;
   * any wait in it goes to the next stretch read), which spares the read for back-to-back work.
   */
  private mark(now: number, always = false): void {
    const wall = now > this.markMs ? now - this.markMs : 0;
    let busy = wall;
    if (always || wall >= SHORT_STRETCH_MS) {
      const idle = this.loopIdle();
      const idled = idle > this.markIdle ? idle - this.markIdle : 0;
      busy = wall > idled ? wall - idled : 0;
      this.markIdle = idle;
    }
    if (this.runningCount > 0) {
      this.busyWithOps += busy;
      this.wallWithOps += wall;
    } else {
      this.busyWithout += busy;
      this.wallWithout += wall;
    }
    if (now > this.markMs) this.markMs = now;
  }

  /**
   * The price of a child's CPU ms in the sample being settled (joules, embodied grams): the
   * children's part of the process's energy (what is not its own, `ownJoules`) per ms of their
   * CPU, the process's price per CPU ms. First to the operations charged their children's CPU
   * (ChildrenCpu, through their accounts: `exact`, a calibration window), scaled down where
   * they were charged more than the sample holds (an exit's rest split by guess); then, in
   * `calibrated`, what is left to the operations no spawn was followed for, by their name's
   * figure (ChildWeights), scaled down to it likewise. So the operations never get more
   * than the children's part and, with what they get of the process's own, Σ operations ≤ the
   * process's energy. The rest (children no operation spawned, or whose spawner was settled)
   * stays the process's.
   */
  private priceChildren(
    sample: EnergySample,
    ownJoules: number,
    ownEmbodied: number,
    from: number,
    now: number,
  ): void {
    this.childJoulesPerMs = 0;
    this.childEmbodiedPerMs = 0;
    this.childScale = 0;
    this.childGuessScale = 0;
    const childMs = (sample.childCpuSeconds ?? 0) * 1000;
    if (!(childMs > 0) || !this.cpu) return;
    const { ended } = this;
    let charged = 0;
    // From 0: those ended before the baseline take their children's CPU since (see baseline).
    for (let i = 0; i < ended.length; i++) charged += ended.op(i)?.cpu?.childSinceSample() ?? 0;
    for (let op = this.head; op; op = op.next) charged += op.cpu?.childSinceSample() ?? 0;
    const guessed = this.guessedChildren(from, now);
    if (!(charged > 0) && !(guessed > 0)) return;
    this.childScale = charged > 0 ? Math.min(1, childMs / charged) : 0;
    const left = childMs - charged * this.childScale;
    this.childGuessScale = guessed > 0 && left > 0 ? Math.min(1, left / guessed) : 0;
    this.childJoulesPerMs = nonNegative(nonNegative(sample.processJoules) - ownJoules) / childMs;
    const embodied = nonNegative(sample.processEmbodiedGrams) - ownEmbodied;
    this.childEmbodiedPerMs = nonNegative(embodied) / childMs;
  }

  /**
   * `calibrated`: Σ of the children's CPU their name's figure (ChildWeights) guesses for the
   * operations whose spawns were not followed (no account: begun between windows).
   */
  private guessedChildren(from: number, now: number): number {
    if (this.attribution !== 'calibrated' || this.childWeights.empty) return 0;
    const { ended } = this;
    let guessed = 0;
    for (let i = this.metered; i < ended.length; i++) guessed += this.guessEnded(i, from, now);
    for (let op = this.head; op; op = op.next) guessed += this.guessRunning(op, from, now);
    return guessed;
  }

  private guessEnded(i: number, from: number, now: number): number {
    const { ended } = this;
    if (ended.op(i)?.cpu?.measured) return 0;
    const ran = overlap(ended.startMs(i), from, Math.min(ended.endMs(i), now));
    return this.childWeights.guess(ended.name(i), ran, ended.endMs(i) - ended.startMs(i));
  }

  private guessRunning(op: TrackedOperation, from: number, now: number): number {
    if (op.cpu?.measured) return 0;
    return this.childWeights.guess(op.name, overlap(op.startMs, from, now), Number.NaN);
  }

  /**
   * `calibrated`: each operation begun in a window and settled now tells its name's children's
   * CPU per operation (ChildWeights), for the operations between windows. Where none of them
   * ended since the last sample (most samples between windows) the ended ones are not walked:
   * with 10,000 a sample the walk took ~23 µs (1,000: 1.5-2.6 µs; Node 20 and 24, 2026-12-06).
   */
  private learnChildren(): void {
    if (this.attribution !== 'calibrated' || this.windowEnded === 0) return;
    this.windowEnded = 0;
    const { ended } = this;
    for (let i = 0; i < ended.length; i++) {
      const cpu = ended.op(i)?.cpu;
      if (cpu?.measured && cpu.window > 0) {
        const wall = ended.endMs(i) - ended.startMs(i);
        this.childWeights.observe(ended.name(i), cpu.childMs, wall, cpu.window);
      }
    }
    this.childWeights.commit();
  }

  /**
   * childMs of the ended operation at `i`. One ended before the baseline (before `first`) takes
   * its children's CPU read since, where its spawns were followed, and no guess by its time.
   */
  private endedChildMs(i: number, first: number, from: number, now: number): number {
    const cpu = this.ended.op(i)?.cpu;
    if (i < first && !cpu?.measured) return 0;
    return this.childMs(cpu, this.guessEnded, i, from, now);
  }

  /**
   * The children's CPU (ms) an operation is given this sample (priceChildren): its own, where
   * its spawns were followed, else what `guess` (guessEnded or guessRunning, for `of`) guesses,
   * asked only where a guess is priced. The method and its argument, not a closure: no allocation
   * per operation and sample.
   */
  private childMs<T>(
    cpu: OperationCpu | undefined,
    guess: (this: EnergyTracker, of: T, from: number, now: number) => number,
    of: T,
    from: number,
    now: number,
  ): number {
    if (cpu?.measured) return cpu.childSinceSample() * this.childScale;
    if (!(this.childGuessScale > 0)) return 0;
    return guess.call(this, of, from, now) * this.childGuessScale;
  }

  /**
   * The CPU the process spent while operations ran but that no operation's callbacks measured
   * (`overhead`, where every weight is CPU): what no running operation claimed (a connection's
   * first read, a response's last write after its request ended, the loop's own work), and the
   * CPU the estimates miss. Most of it comes with requests, about alike whatever they do, so it
   * is split equally among the requests that ended in the interval; with none, it is left to
   * the CPU split. Returns what it added.
   */
  private spreadOverhead(overhead: number): number {
    const { ended } = this;
    if (!(overhead > 0)) return 0;
    let requests = 0;
    for (let i = this.metered; i < ended.length; i++) if (ended.kind(i) === 'request') requests++;
    if (requests === 0) return 0;
    this.overheadEach = overhead / requests;
    for (let i = this.metered; i < ended.length; i++) {
      if (ended.kind(i) === 'request') ended.setWeight(i, ended.weight(i) + this.overheadEach);
    }
    return overhead;
  }

  /**
   * The main thread's CPU (ms) since the last sample's, where the interval was measured
   * (`exact`, a window); NaN where it was not, or no thread clock is known. Read at every
   * sample, as it begins: the process's CPU of the interval was read before it, so a window
   * opened at the end of a sample counts that sample's own work (its loops over the operations,
   * its listeners) as the main thread's, not as other threads' for the pool jobs.
   */
  private threadSince(): number {
    if (!this.threadCpu) return Number.NaN;
    const at = this.threadCpu();
    const since = at - this.threadAt;
    this.threadAt = at;
    return this.cpu?.measuring ? since : Number.NaN;
  }

  /**
   * The CPU of other threads (`pot`: the process's beyond the loop's busy time, no more than
   * the operations left unclaimed) goes to the operations whose work was out on libuv's pool
   * in the interval (measured: `exact`, a calibration window), in proportion to its time out,
   * never more than that time (one thread each: the rest, the GC's helpers' say, stays
   * overhead). Returns what it added. A window's figures take it in (observe): between
   * windows, the calibrated CPU of a name that hands work to the pool includes that work.
   */
  private spreadOffThread(pot: number): number {
    if (!(pot > 0) || !(this.attribution === 'exact' || this.windowOpen)) return 0;
    const { ended } = this;
    let out = 0;
    for (let i = this.metered; i < ended.length; i++) {
      out += ended.op(i)?.cpu?.poolSinceSample() ?? 0;
    }
    for (let op = this.head; op; op = op.next) out += op.cpu?.poolSinceSample() ?? 0;
    if (!(out > 0)) return 0;
    const scale = Math.min(1, pot / out);
    let given = 0;
    for (let i = this.metered; i < ended.length; i++) {
      const cpu = ended.op(i)?.cpu;
      const share = cpu ? cpu.poolSinceSample() * scale : 0;
      if (!(share > 0) || !cpu) continue;
      cpu.offThreadMs += share;
      ended.setWeight(i, ended.weight(i) + share);
      given += share;
    }
    for (let op = this.head; op; op = op.next) {
      const share = op.cpu ? op.cpu.poolSinceSample() * scale : 0;
      if (!(share > 0) || !op.cpu) continue;
      op.cpu.offThreadMs += share;
      (op.accrued as Accrued).weight += share;
      given += share;
    }
    return given;
  }

  /** Advances the equal-share integral to `now` (before the number running changes). */
  private share(now: number): void {
    if (now <= this.sharedAt) return;
    if (this.runningCount > 0) this.shared += (now - this.sharedAt) / this.runningCount;
    this.sharedAt = now;
  }

  /**
   * An operation's CPU in an interval, from what is known of it there: `busy` measured in its
   * callbacks (NaN if not measured), the time it ran there, its equal share of that time with
   * the other running operations, and (once it ended) how long it lasted. Measured CPU
   * (`exact`); in `calibrated`, an ended operation's calibrated CPU for its duration, in the
   * part of its time that fell in the interval, and a running one's time × its name's density;
   * else its equal share (`wall`, and an operation whose CPU nothing measured or calibrated).
   */
  private weigh(
    name: string,
    kind: OperationKind,
    busy: number,
    ran: number,
    equalShare: number,
    durationMs = Number.NaN,
  ): number {
    // While a calibration window is open its interval is weighed by what it measured, as in
    // `exact`: the hooks' own cost is then charged with the callbacks it came with. Weighed by
    // the calibrated figures instead, that cost (~0.1 ms per request at 32 connections here)
    // went to the per-request overhead, split alike over cheap and costly requests.
    if ((this.attribution === 'exact' || this.windowOpen) && !Number.isNaN(busy)) {
      return Math.max(busy, 0);
    }
    if (this.attribution === 'calibrated') {
      // A name beyond the table of names stays at its kind's figure: counted as uncalibrated, it
      // brought a window (hooks on every callback) every MIN_CALIBRATION_GAP_MS for good.
      if (this.weights.learnable(name)) this.uncalibrated = true;
      if (durationMs >= 0) {
        const cpu = this.weights.cpuOf(name, durationMs);
        if (cpu !== undefined) return durationMs > 0 ? (cpu * ran) / durationMs : cpu;
      }
      const density = this.weights.of(name, kind);
      if (density !== undefined) return ran * density;
    }
    this.byTime = true;
    return Math.max(equalShare, 0);
  }

  private weighRunning(op: TrackedOperation, from: number, now: number): number {
    op.accrued ??= new Accrued();
    const busy = op.cpu?.sinceSample() ?? Number.NaN;
    // A window measures what begins in it: an operation begun before the last window opened
    // (a stream open for minutes) is one no window can learn its name from, and brings none.
    const learnable = this.uncalibrated;
    op.accrued.guessed = this.guessed(op.name, busy);
    op.accrued.weight = this.weigh(
      op.name,
      op.kind,
      busy,
      overlap(op.startMs, from, now),
      this.shared - op.shareFrom,
    );
    if (op.startMs < this.lastWindowMs) this.uncalibrated = learnable;
    return op.accrued.weight;
  }

  /**
   * True where an operation's weight is its kind's density × its time: `calibrated`,
   * nothing measured of it now, and no window measured its name. That density is of the other
   * operations of its kind (a CPU-bound route's), not of one that may only wait (an idle stream).
   */
  private guessed(name: string, busy: number): boolean {
    if (this.attribution !== 'calibrated') return false;
    if (this.windowOpen && !Number.isNaN(busy)) return false;
    return !this.weights.known(name);
  }

  /**
   * A window's overhead per request, for the intervals after it (see capGuesses). Where
   * operations it could not measure ran (guessed), what their guess left out of their CPU is
   * in that overhead too: it may then lower the figure, never raise it. Raised, a job's CPU
   * was owed to the requests, and to three times as many requests after, all of the CPU. A
   * window in which no request ended measured none, and leaves the figure as it was.
   */
  private learnOverhead(guessedRan: boolean): void {
    const each = this.overheadEach;
    this.windowOverheadEach = guessedRan ? Math.min(this.windowOverheadEach, each) : each;
  }

  /**
   * Scales the guessed weights (see guessed) down to the CPU the interval has left once the
   * others are counted, the ended requests' overhead included (as the last window measured it),
   * where they claim more: the operations cannot have used more CPU than the process did while
   * they ran, and that overhead is the requests' own work. Returns what it took off.
   *
   * Where the calibrated names alone claim all that CPU or more, their figures are shown too
   * high for this interval (a window at start-up measured a route cold: 10 ms a request, then
   * 1 ms), and nothing is left, not even overhead to spread: the guessed operations that began
   * and ended in the interval then keep their weights (`kept`, their sum) and share the CPU with
   * the calibrated ones in proportion, as if all were shown too high alike. Scaled to 0, a real
   * route showed 0 J a request until a window measured it. Those that ran at a sample (a
   * stream: its guess is the kind's CPU-bound density × a life that is mostly a wait) still get
   * what is left, nothing. Where only the requests' overhead leaves nothing, the guessed
   * requests still get their part of the overhead, as the others do, and the cap stands: a
   * new route that waits is guessed at the density × its duration, no measure of its CPU (in
   * the attribution bench's warm-up, 133 `/io` requests at 60 ms each, 1.1 ms alone).
   */
  private capGuesses(guessed: number, left: number, kept: number, from: number): number {
    if (!(guessed > 0) || !(guessed > left)) return 0;
    const scale = left > 0 ? left / guessed : 0;
    const keepFresh = kept > 0;
    const { ended } = this;
    for (let i = 0; i < ended.length; i++) {
      const busy = ended.op(i)?.cpu?.sinceSample() ?? Number.NaN;
      if (!this.guessed(ended.name(i), busy)) continue;
      if (keepFresh && ended.startMs(i) >= from) continue;
      ended.setWeight(i, ended.weight(i) * scale);
    }
    for (let op = this.head; op; op = op.next) {
      const accrued = op.accrued as Accrued;
      if (accrued.guessed) accrued.weight *= scale;
    }
    return (guessed - kept) * (1 - scale);
  }

  /**
   * `calibrated`: a window is one sample interval in which CPU is measured per operation (and
   * the interval is weighed by what was measured). When it ends, each name seen in it takes
   * what its operations showed there (CpuWeights: those begun in the window and measured).
   * The next opens every calibrationIntervalMs, or sooner (not within MIN_CALIBRATION_GAP_MS)
   * when an operation name no window has seen ran.
   */
  private calibrate(now: number): void {
    const cpu = this.cpu;
    if (this.attribution !== 'calibrated' || !cpu || this.stopped) return;
    if (this.windowOpen) {
      const { ended } = this;
      for (let i = 0; i < ended.length; i++) {
        const op = ended.op(i);
        if (op) this.observe(op, op.endMs, true);
      }
      for (let op = this.head; op; op = op.next) this.observe(op, now, false);
      this.weights.commit();
      cpu.stop();
      this.windowOpen = false;
      return;
    }
    const since = now - this.lastWindowMs;
    const gap = Math.min(MIN_CALIBRATION_GAP_MS, this.calibrationIntervalMs);
    if (since >= this.calibrationIntervalMs || (this.uncalibrated && since >= gap)) {
      this.window++;
      this.windowOpen = true;
      this.lastWindowMs = now;
      this.uncalibrated = false;
      cpu.start();
    }
  }

  private observe(op: TrackedOperation, to: number, whole: boolean): void {
    const account = op.cpu;
    if (account?.measured && account.window === this.window && this.cpu) {
      // What the hooks cost it is not what it costs between windows, where they are off.
      const own = account.busyMs - this.cpu.hookCostOf(account);
      const busy = Math.max(0, own) + account.offThreadMs;
      this.weights.observe(op.name, op.kind, busy, to - op.startMs, whole);
    }
  }

  /**
   * Reports every ended operation (settled, or `provisional` when no sample will settle them),
   * then empties the list; rethrows the first listener error after.
   */
  private reportEnded(provisional: boolean): void {
    this.whileReporting.active = true;
    this.contextsSettling?.(true);
    try {
      this.reportEach(provisional);
    } finally {
      this.whileReporting.active = false;
      this.contextsSettling?.(false);
    }
  }

  /** reportEnded's loop over what had ended when it began (see WhileReporting). */
  private reportEach(provisional: boolean): void {
    const { ended, batches } = this;
    let failure: { err: unknown } | undefined;
    const { listeners } = this;
    for (let i = 0; i < ended.length; i++) {
      const op = ended.op(i);
      const kept = ended.kept(i);
      const context = ended.context(i);
      if (
        (!op || op.unread) &&
        !kept &&
        (!context || context.settleLent) &&
        !listeners.wants(ended.kind(i))
      ) {
        // No footprint wanted: the context and the settled listeners, if any, are lent the
        // figures (a traced request's span reads only those it sets, in the call: a footprint
        // built for it was ~185 B a request). One held for its CPU alone (`exact`, a window) is
        // settled all the same, its account closed.
        op?.settleUnread();
        try {
          this.lend(i, provisional, context);
        } catch (err) {
          failure ??= { err };
        }
        continue;
      }
      const footprint =
        provisional && op?.atEnd
          ? op.atEnd
          : provisional && kept
            ? this.provisionalAt(i)
            : {
                operation: ended.name(i),
                kind: ended.kind(i),
                durationSeconds: (ended.endMs(i) - ended.startMs(i)) / 1000,
                joules: ended.joules(i),
                grams: ended.grams(i),
                embodiedGrams: ended.embodied(i),
                estimated: ended.estimated(i),
                provisional,
                context,
                status: ended.status(i),
                http: ended.http(i),
                attributes: ended.attributes(i),
              };
      if (kept) batches[Math.floor(i / SETTLED_SLOTS)]?.set(i, footprint);
      try {
        this.report(context, op, footprint);
      } catch (err) {
        failure ??= { err };
      }
    }
    ended.clear();
    this.awaitedNow = false;
    for (const batch of batches) batch?.close();
    batches.length = 0;
    if (failure) throw failure.err;
  }

  /**
   * The figures the footprint of ended operation `i` would carry, settled, to its context (one
   * that takes them) and the settledListeners, in the one object they are lent; rethrows the
   * first error after.
   */
  private lend(i: number, provisional: boolean, context?: OperationContext): void {
    if (!context && this.settledListeners.all.length === 0) return;
    const { ended, lent } = this;
    lent.operation = ended.name(i);
    lent.kind = ended.kind(i);
    lent.estimated = ended.estimated(i);
    lent.provisional = provisional;
    lent.attributes = ended.attributes(i);
    lent.joules = ended.joules(i);
    lent.grams = ended.grams(i);
    lent.embodiedGrams = ended.embodied(i);
    this.tellSettled(lent, context);
  }

  /**
   * Calls each settledListener with `figures`, after `context` (lent them: see lend); rethrows
   * the first error after, as report() does.
   */
  private tellSettled(figures: LentFigures, context?: OperationContext): void {
    let failure: { err: unknown } | undefined;
    try {
      context?.settleLent?.(figures);
    } catch (err) {
      failure = { err };
    }
    // Called whatever the context did (not `??=`, which would skip them where it threw). Public:
    // an async listener's rejection is onEnd's, not an unhandled one.
    const listeners = callEachKeepingFirst(this.settledListeners.all, figures, this.failedLater);
    failure ??= listeners;
    if (failure) throw failure.err;
  }

  /**
   * To the operation (if kept), its context and the listeners (carbonscope's own first); rethrows
   * the first error after.
   */
  private report(
    context: OperationContext | undefined,
    op: TrackedOperation | undefined,
    footprint: OperationFootprint,
  ): void {
    op?.settle(footprint);
    let failure: { err: unknown } | undefined;
    try {
      context?.settle(footprint);
    } catch (err) {
      failure = { err };
    }
    try {
      this.tellSettled(footprint);
    } catch (err) {
      failure ??= { err };
    }
    const listeners = callEachKeepingFirst(this.listeners.all, footprint, this.failedLater);
    failure ??= listeners;
    if (failure) throw failure.err;
  }
}

function nonNegative(x: number): number {
  return Number.isFinite(x) ? Math.max(0, x) : 0;
}

function overlap(startMs: number, from: number, to: number): number {
  const start = Math.max(startMs, from);
  return to > start ? to - start : 0;
}

/** The warning for a listener's error that no sample is left to throw (see onListenerError). */
function stoppedListenerWarning(err: unknown): Error {
  const message = messageOf(err);
  const warning = new Error(
    `an operation listener threw after the tracker's stop(), with no sample left to throw it (the first such; give onListenerError for each): ${message}`,
    { cause: err },
  );
  warning.name = 'CarbonscopeListenerWarning';
  return warning;
}

/** The process's own CPU in a sample: its children's left out. */
function ownCpuSeconds(sample: EnergySample): number {
  const children = sample.childCpuSeconds ?? 0;
  return children > 0 ? Math.max(0, sample.processCpuSeconds - children) : sample.processCpuSeconds;
}
