import type { Clock } from './probes.js';
import { measureWith, trackWith } from './track.js';
import type {
  ActiveOperation,
  EnergySample,
  HttpRequestFacts,
  OperationFootprint,
  OperationKind,
  OperationListener,
  OperationTracker,
} from './types.js';

export interface TrackerOptions {
  clock: Clock;
  /**
   * Called when an operation begins; what it returns travels with the operation and comes back
   * in its footprint (`context`). The OTel layer passes the active span this way, so the tracker
   * itself knows nothing of tracing.
   */
  captureContext?: () => unknown;
  /** True until the meter says otherwise: with no sample yet, nothing is measured. */
  estimated?: boolean;
}

/**
 * Gives every running operation its fair share of the process's power, in O(1) per operation,
 * and reports each ended operation to its listeners.
 *
 * It keeps one running integral A(t) = ∫ P(t) / N(t) dt over the time at least one operation
 * runs: the joules each active operation has earned so far. A is advanced lazily, only when N
 * changes (begin, end) or the power changes (a sample). An operation notes A when it begins; its
 * share is A(end) − A(begin). Overlapping operations therefore split the power, and the shares of
 * all operations add up to exactly ∫ P dt over the time covered by at least one operation.
 *
 * P is the process's average power over the latest sample interval, held until the next sample
 * (the power of the current interval is known only when it ends).
 */
export class EnergyTracker implements OperationTracker {
  /** A(t): joules per active operation, cumulative. */
  private perOperation = 0;
  private lastMs: number;
  private running = 0;
  private watts = 0;
  private gramsPerJoule = 0;
  private estimated: boolean;
  private readonly clock: Clock;
  private readonly captureContext: (() => unknown) | undefined;
  private readonly listeners: OperationListener[] = [];

  constructor(options: TrackerOptions) {
    this.clock = options.clock;
    this.captureContext = options.captureContext;
    this.estimated = options.estimated ?? true;
    this.lastMs = options.clock();
  }

  /** Operations running now. */
  get active(): number {
    return this.running;
  }

  /** Calls `listener` with every ended operation's footprint; returns its unsubscribe. */
  onEnd(listener: OperationListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Fed every sample: closes the integral at the old power, then holds the new power until the
   * next sample.
   */
  update(sample: EnergySample): void {
    this.advance(sample.nowMs);
    const w = sample.processWatts;
    this.watts = Number.isFinite(w) && w > 0 ? w : 0;
    this.gramsPerJoule = sample.gramsPerJoule;
    this.estimated = sample.totals.process.estimated;
  }

  begin(operation: string, kind: OperationKind = 'operation'): ActiveOperation {
    const now = this.clock();
    this.advance(now);
    this.running++;
    return new TrackedOperation(
      this,
      operation,
      kind,
      now,
      this.perOperation,
      this.captureContext?.(),
    );
  }

  track<T>(operation: string, fn: () => T): T {
    return trackWith(this, operation, fn);
  }

  measure<T>(
    operation: string,
    fn: () => T | PromiseLike<T>,
  ): Promise<{ result: T; footprint: OperationFootprint }> {
    return measureWith(this, operation, fn);
  }

  /** @internal called once by TrackedOperation.end */
  finish(
    op: TrackedOperation,
    operation: string,
    status?: number,
    http?: HttpRequestFacts,
  ): OperationFootprint {
    const now = this.clock();
    this.advance(now);
    this.running--;
    const joules = this.perOperation - op.startPerOperation;
    const footprint: OperationFootprint = {
      operation,
      kind: op.kind,
      durationSeconds: (now - op.startMs) / 1000,
      joules,
      grams: joules * this.gramsPerJoule,
      estimated: this.estimated,
      context: op.context,
      status,
      http,
    };
    for (const listener of this.listeners) listener(footprint);
    return footprint;
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
    readonly kind: OperationKind,
    readonly startMs: number,
    readonly startPerOperation: number,
    readonly context: unknown,
  ) {}

  /** Idempotent: a second call returns the first result and reports nothing. */
  end(operation?: string, status?: number, http?: HttpRequestFacts): OperationFootprint {
    this.footprint ??= this.tracker.finish(this, operation ?? this.operation, status, http);
    return this.footprint;
  }
}
