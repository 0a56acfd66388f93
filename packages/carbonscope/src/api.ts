import { checkedFunction, checkedOptions, checkedResponse } from './argument-checks.js';
import type {
  EnergySnapshot,
  Measured,
  MeasureOptions,
  OperationFootprint,
} from './energy/index.js';
import { passedThrough, tooDeepToTrack, untracked } from './energy/index.js';
import { checkedOperationName } from './operation-name.js';
import {
  ranBeforeStart,
  startDefault,
  startedDefault,
  startingTracker,
  stopDefault,
  warnIgnoredOptions,
} from './otel/index.js';
import type { Carbonscope, CarbonscopeOptions } from './runtime/index.js';
import { checkOptions } from './runtime/index.js';

export type StartOptions = Omit<CarbonscopeOptions, 'captureContext'>;

/**
 * Starts carbonscope for this process (once; later calls return the same instance): the meter
 * samples in the background on a timer that never keeps the process alive.
 */
export function start(options: StartOptions = {}): Promise<Carbonscope> {
  // Here, not only in the start: a started instance is handed back without one.
  try {
    checkOptions(options, 'start()');
  } catch (err) {
    return Promise.reject(err);
  }
  warnIgnoredOptions(options, 'start()');
  return startDefault(options);
}

/**
 * Runs fn (sync or async) as one operation and returns what fn returns; a thenable comes back
 * as a native Promise of its result, then()ed once (the README's "Use it as a library"). Before
 * start() it runs fn unmetered and returns the same, so library code can be instrumented
 * whether or not its host starts carbonscope, and sees one shape either way.
 */
export function track<T>(name: string, fn: () => PromiseLike<T>): Promise<T>;
export function track<T>(name: string, fn: () => T): T;
export function track<T>(name: string, fn: () => T): T {
  checkedOperationName(name, 'track()');
  checkedFunction(fn, 'track()');
  const cs = startedDefault();
  if (cs) return tooDeepToTrack(cs.tracker) ? passedThrough(fn) : cs.track(name, fn);
  // Starting: its meter counts from its create(), so does its tracker.
  const tracker = startingTracker();
  if (tracker) return tooDeepToTrack(tracker) ? passedThrough(fn) : tracker.track(name, fn);
  ranBeforeStart(name);
  return untracked(fn);
}

/**
 * Runs fn as one operation (starting carbonscope if needed); resolves to its result, its settled
 * footprint (a sample is taken when fn is done, if the meter's interval has run 100 ms) and its
 * SCI per functional unit: `{ units: 1000 }`, or `{ units: (result) => result.length }`, names
 * how many units fn's work was for (1 by default: per operation).
 */
export async function measure<T>(
  name: string,
  fn: () => T | PromiseLike<T>,
  options?: MeasureOptions<T>,
): Promise<Measured<T>> {
  checkedOperationName(name, 'measure()');
  checkedFunction(fn, 'measure()');
  // Here too, before a start: refused by the instance alone, a null started carbonscope first.
  if (options !== undefined) checkedOptions(options, 'measure()');
  const cs = startedDefault() ?? (await startDefault({}, 'measure()'));
  return cs.measure(name, fn, options);
}

/**
 * The provisional footprint of the HTTP/1 request `res` answered, for its access log line, from
 * the running carbonscope (register's too): see Carbonscope.requestFootprint. Undefined before
 * start().
 */
export function requestFootprint(res: object): OperationFootprint | undefined {
  checkedResponse(res, 'requestFootprint()');
  const cs = startedDefault();
  // An instance an older copy of the package started (the slot is shared) may lack it.
  return typeof cs?.requestFootprint === 'function' ? cs.requestFootprint(res) : undefined;
}

/** What the meter knows now; null before start(). */
export function snapshot(): EnergySnapshot | null {
  return startedDefault()?.snapshot() ?? null;
}

/**
 * Takes a last sample, stops the meter and its sources; under `--import carbonscope/register`
 * also pushes the last figures through the SDK register started and stops it (what an
 * application's SIGTERM handler awaits before it exits).
 */
export function stop(): Promise<void> {
  return stopDefault();
}

/**
 * CodeCarbon's `EmissionsTracker` habit: `await tracker.start()`, do the work, and
 * `await tracker.stop()` resolves to the process's footprint over that window (a sample is
 * taken at both ends, so the figure is settled, not extrapolated).
 */
export class EmissionsTracker {
  private cs: Carbonscope | undefined;
  private from: Mark | undefined;
  private stopped = false;

  constructor(
    private readonly name = 'emissions-tracker',
    private readonly options: StartOptions = {},
  ) {
    // Checked here: its stop() reports the name, long after a wrong one was given; and its
    // start() bypasses start()'s check of the options (a null was named Carbonscope.create()'s).
    checkedOperationName(name, 'EmissionsTracker');
    checkOptions(options, 'EmissionsTracker');
  }

  async start(): Promise<void> {
    warnIgnoredOptions(this.options, 'EmissionsTracker');
    this.cs = startedDefault() ?? (await startDefault(this.options, 'EmissionsTracker'));
    this.from = this.mark();
    this.stopped = false;
  }

  async stop(): Promise<OperationFootprint> {
    const { cs, from } = this;
    if (!cs || !from) {
      throw new Error(
        this.stopped
          ? 'EmissionsTracker.stop() twice: its window ended at the first stop(); start() opens another'
          : 'EmissionsTracker.stop() before start()',
      );
    }
    const to = this.mark();
    this.from = undefined;
    this.stopped = true;
    return {
      operation: this.name,
      kind: 'operation',
      durationSeconds: (to.nowMs - from.nowMs) / 1000,
      joules: to.joules - from.joules,
      grams: to.grams - from.grams,
      embodiedGrams: to.embodiedGrams - from.embodiedGrams,
      // The window's own joules, not the totals': a source that handed over before the window
      // left estimated joules in the totals that are none of the window's.
      estimated: to.estimatedJoules > from.estimatedJoules || to.estimatedNow,
      // A sample at each end: the figure is the meter's, not extrapolated.
      provisional: false,
    };
  }

  private mark(): Mark {
    const cs = this.cs as Carbonscope;
    const sample = cs.meter.sampleNow() ?? cs.meter.latest();
    const totals = sample?.totals.process;
    return {
      nowMs: sample?.nowMs ?? cs.meter.options.clock(),
      joules: totals?.joules ?? 0,
      grams: totals?.grams ?? 0,
      embodiedGrams: totals?.embodiedGrams ?? 0,
      estimatedJoules: totals?.estimatedJoules ?? 0,
      estimatedNow: totals?.wattsEstimated ?? true,
    };
  }
}

/** The process's totals at one end of an EmissionsTracker window. */
interface Mark {
  nowMs: number;
  joules: number;
  grams: number;
  embodiedGrams: number;
  /** Of `joules`, those an estimate gave. */
  estimatedJoules: number;
  /** Whether the sources in use at this end are an estimate. */
  estimatedNow: boolean;
}
