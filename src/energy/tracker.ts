import { type Attributes, type Histogram, type Span, trace } from '@opentelemetry/api';
import { AttributeCache, BoundedLabelSet } from '../labels/index.js';
import type { Clock } from './probes.js';
import type { ActiveOperation, OperationFootprint, OperationTracker } from './types.js';

/** Span attributes set on the span active when an operation began (when tracing is on). */
export const SPAN_ATTRIBUTES = {
  energy: 'carbonscope.energy_joules',
  emissions: 'carbonscope.emissions_grams',
  estimated: 'carbonscope.estimated',
} as const;

export interface TrackerOptions {
  clock: Clock;
  energyHistogram: Histogram;
  emissionsHistogram: Histogram;
}

/** Distinct operation names labelled over the process's life; the rest are `other`. */
export const MAX_OPERATION_LABELS = 64;

/**
 * Gives every running operation its fair share of the process's power, in O(1) per operation.
 *
 * It keeps one running integral A(t) = ∫ P(t) / N(t) dt over the time at least one operation
 * runs: the joules each active operation has earned so far. A is advanced lazily, only when N
 * changes (begin, end) or the power changes (a sample). An operation notes A when it begins; its
 * share is A(end) − A(begin). Overlapping operations therefore split the power, and the shares of
 * all operations add up to exactly ∫ P dt over the time covered by at least one operation.
 *
 * P is the process's average power over the latest sample interval, held until the next sample
 * (the power of the current interval is known only when it ends). Per-operation figures are
 * therefore as accurate as the sampling interval: over a window of many intervals the shares
 * match the process's energy counter (the error is one interval's change in power); within an
 * interval, a burst is charged at the previous interval's power.
 */
export class EnergyTracker implements OperationTracker {
  /** A(t): joules per active operation, cumulative. */
  private perOperation = 0;
  private lastMs: number;
  private running = 0;
  private watts = 0;
  private gramsPerJoule = 0;
  private estimated = true;
  private readonly clock: Clock;
  private readonly energy: Histogram;
  private readonly emissions: Histogram;
  /**
   * One attributes object per operation name, so recording allocates nothing per call; the
   * names are a bounded set, so a caller naming operations per user or per id cannot grow the
   * series without bound (beyond the cap they are recorded as `other`).
   */
  private readonly labels = new AttributeCache(
    [new BoundedLabelSet({ capacity: MAX_OPERATION_LABELS, maxLength: 100 })],
    (operation): Attributes => ({ operation }),
  );

  constructor(options: TrackerOptions) {
    this.clock = options.clock;
    this.energy = options.energyHistogram;
    this.emissions = options.emissionsHistogram;
    this.lastMs = options.clock();
  }

  /** Operations running now. */
  get active(): number {
    return this.running;
  }

  /**
   * Called by the sampler after every sample: closes the integral at the old power, then holds
   * the new power until the next sample.
   */
  update(nowMs: number, processWatts: number, gramsPerJoule: number, estimated: boolean): void {
    this.advance(nowMs);
    this.watts = Number.isFinite(processWatts) && processWatts > 0 ? processWatts : 0;
    this.gramsPerJoule = gramsPerJoule;
    this.estimated = estimated;
  }

  begin(operation: string): ActiveOperation {
    const now = this.clock();
    this.advance(now);
    this.running++;
    return new TrackedOperation(this, operation, now, this.perOperation, trace.getActiveSpan());
  }

  track<T>(operation: string, fn: () => T): T {
    return trackWith(this, operation, fn);
  }

  /** @internal called once by TrackedOperation.end */
  finish(op: TrackedOperation, operation: string): OperationFootprint {
    const now = this.clock();
    this.advance(now);
    this.running--;
    const energyJoules = this.perOperation - op.startPerOperation;
    const emissionsGrams = energyJoules * this.gramsPerJoule;
    const labels = this.labels.of(operation);
    this.energy.record(energyJoules, labels);
    this.emissions.record(emissionsGrams, labels);
    if (op.span?.isRecording()) {
      op.span.setAttribute(SPAN_ATTRIBUTES.energy, energyJoules);
      op.span.setAttribute(SPAN_ATTRIBUTES.emissions, emissionsGrams);
      op.span.setAttribute(SPAN_ATTRIBUTES.estimated, this.estimated);
    }
    return {
      operation,
      durationSeconds: (now - op.startMs) / 1000,
      energyJoules,
      emissionsGrams,
      estimated: this.estimated,
    };
  }

  private advance(nowMs: number): void {
    const dt = nowMs - this.lastMs;
    if (!(dt > 0)) return; // a clock that stalls or steps back adds nothing
    if (this.running > 0) this.perOperation += (this.watts * dt) / 1000 / this.running;
    this.lastMs = nowMs;
  }
}

class TrackedOperation implements ActiveOperation {
  private footprint: OperationFootprint | undefined;

  constructor(
    private readonly tracker: EnergyTracker,
    private readonly operation: string,
    readonly startMs: number,
    readonly startPerOperation: number,
    readonly span: Span | undefined,
  ) {}

  /** Idempotent: a second call returns the first result and records nothing. */
  end(operation?: string): OperationFootprint {
    this.footprint ??= this.tracker.finish(this, operation ?? this.operation);
    return this.footprint;
  }
}

/**
 * Runs fn (sync or async) as one operation of `tracker`: ended when fn returns, throws, or its
 * promise settles. Shared by every OperationTracker so they all end operations the same way.
 */
export function trackWith<T>(
  tracker: Pick<OperationTracker, 'begin'>,
  operation: string,
  fn: () => T,
): T {
  const op = tracker.begin(operation);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    op.end();
    throw err;
  }
  if (isThenable(result)) return Promise.resolve(result).finally(() => op.end()) as T;
  op.end();
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
