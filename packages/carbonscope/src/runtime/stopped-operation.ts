import type {
  ActiveOperation,
  Clock,
  HttpRequestFacts,
  OperationFootprint,
  OperationKind,
} from '../energy/index.js';
import type { RequestTracking } from '../http/index.js';
import { checkedOperationName } from '../operation-name.js';

/**
 * What begin() hands out once its Carbonscope is stopped: an operation that counts nothing
 * (no listener hears of it, no running list holds it) and ends as any does, its footprint 0 J,
 * provisional and estimated: no meter measured its time. settled() resolves at its end, so a
 * caller awaiting it is not left waiting for a sample that will never come.
 */
export class StoppedOperation implements ActiveOperation {
  private atEnd: OperationFootprint | undefined;
  private readonly ended: Promise<OperationFootprint>;
  private resolveEnded!: (footprint: OperationFootprint) => void;
  private readonly startMs: number;

  constructor(
    private name: string,
    private readonly kind: OperationKind,
    private readonly clock: Clock,
    private readonly checkHttpEnd: (status: unknown, http: unknown) => HttpRequestFacts | undefined,
  ) {
    this.startMs = clock();
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  end(operation?: string, status?: number, http?: HttpRequestFacts): OperationFootprint {
    if (this.atEnd) return this.atEnd;
    // The same arguments are wrong as on a running instance's operation.
    if (operation !== undefined) this.name = checkedOperationName(operation, 'end()');
    const facts = this.checkHttpEnd(status, http);
    this.atEnd = {
      ...(status === undefined ? {} : { status }),
      ...(facts === undefined ? {} : { http: facts }),
      operation: this.name,
      kind: this.kind,
      durationSeconds: Math.max(0, this.clock() - this.startMs) / 1000,
      joules: 0,
      grams: 0,
      embodiedGrams: 0,
      estimated: true,
      provisional: true,
    };
    this.resolveEnded(this.atEnd);
    return this.atEnd;
  }

  run<T>(fn: () => T): T {
    return fn();
  }

  settled(): Promise<OperationFootprint> {
    return this.ended;
  }

  rename(operation: string): void {
    const name = checkedOperationName(operation, 'rename()');
    if (!this.atEnd) this.name = name;
  }

  captureContext(): void {}
}

/** What trackRequests() hands out once its Carbonscope is stopped: it tracks nothing. */
export const STOPPED_TRACKING: RequestTracking = {
  inFlight: 0,
  sweep() {},
  ignore() {},
  leaveOutScrape() {},
  endedOperation: () => undefined,
  stop() {},
};
