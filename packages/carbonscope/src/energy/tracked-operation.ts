import { checkedOperationName } from '../operation-name.js';
import type { Accrued } from './accrued.js';
import type { CpuOwner, OperationCpu } from './operation-cpu.js';
import { SettlementBatch } from './settlement-batch.js';
import type {
  ActiveOperation,
  HttpRequestFacts,
  OperationAttributes,
  OperationContext,
  OperationFootprint,
  OperationKind,
} from './types.js';

/** What a tracked operation asks of its tracker. */
export interface OperationHost {
  /**
   * Ends it. `kept` (end()): its provisional footprint is returned and the operation kept until
   * settled, for settled(); else (close()) neither.
   */
  finish(op: TrackedOperation, kept: boolean): OperationFootprint | undefined;
  /** Someone waits for the settled figure of `op`, ended and not settled: hold it till then. */
  hold(op: TrackedOperation): void;
  runIn<T>(op: TrackedOperation, fn: () => T): T;
  capture(op: TrackedOperation): void;
  /** end()'s status and facts, checked, the facts interned (see httpEndChecker). */
  checkHttpEnd(status: unknown, facts: unknown): HttpRequestFacts | undefined;
}

/** TrackedOperation or a subclass with its constructor (EnergyTracker.beginAs). */
export type OperationClass<T extends TrackedOperation> = new (
  host: OperationHost,
  name: string,
  kind: OperationKind,
  startMs: number,
) => T;

/**
 * One operation's state, kept by its tracker: a node of the tracker's list of running
 * operations, and its times. What only some operations need (what samples gave it while it
 * ran, what the callback clock measured) hangs off it, made when needed: this object and its
 * numbers are allocated for every request. Its fields are the tracker's; users see it as an
 * ActiveOperation.
 */
export class TrackedOperation implements ActiveOperation, CpuOwner {
  prev: TrackedOperation | null = null;
  next: TrackedOperation | null = null;
  /** NaN while it runs. */
  endMs = Number.NaN;
  status: number | undefined;
  http: HttpRequestFacts | undefined;
  /** The application's attributes for it (setAttributes), interned and bounded. */
  attributes: OperationAttributes | undefined;
  /** The tracker's equal-share integral at its last sample (or start), and at its end. */
  shareFrom = 0;
  shareEnd = 0;
  context: OperationContext | undefined;
  /** What samples gave it while it ran; none crossed it yet when undefined. */
  accrued: Accrued | undefined;
  /** What the callback clock measured; nothing when undefined. */
  cpu: OperationCpu | undefined;
  /** The provisional footprint end() returned. */
  atEnd: OperationFootprint | undefined;
  /** The settled footprint, once known. */
  atSettlement: OperationFootprint | undefined;
  /**
   * Where its settled footprint will be, by `index`, when the tracker does not hold it (ended
   * with end(), and no one waited for the figure before its end).
   */
  batch: SettlementBatch | undefined;
  index = -1;
  /**
   * The tracker's interval it ended in (its count of samples then): its provisional figure can
   * be worked out again while that interval is not settled (see EnergyTracker.footprintAtEnd).
   */
  endInterval = -1;
  private waiters: Array<(footprint: OperationFootprint) => void> | undefined;

  constructor(
    /** The tracker; once the operation is dropped from sharing, what ends it as such. */
    public host: OperationHost,
    public name: string,
    readonly kind: OperationKind,
    readonly startMs: number,
  ) {}

  get ended(): boolean {
    return !Number.isNaN(this.endMs);
  }

  get closed(): boolean {
    return this.atSettlement !== undefined || this.batch?.settled === true;
  }

  /** True while someone waits for its settled figure. */
  get awaited(): boolean {
    return this.waiters !== undefined;
  }

  /**
   * True where no one can ask for its settled figure: ended with close() (its callers drop it,
   * and keep no reference), and no one waiting. See settleUnread.
   */
  get unread(): boolean {
    return this.atEnd === undefined && this.waiters === undefined;
  }

  /**
   * Idempotent: a second call returns the first result and reports nothing. A new name is
   * checked as begin()'s is: one that is no text failed later, in the listeners that label it,
   * and the operation's figures were lost with it. The status and facts are checked too, all
   * before anything changes (a refused call leaves the operation running as it was): each
   * becomes a label, and the HTTP metrics keep an entry per facts object, so a caller's fresh
   * literal is replaced by the interned one request tracking uses.
   */
  end(operation?: string, status?: number, http?: HttpRequestFacts): OperationFootprint {
    if (this.atEnd) return this.atEnd;
    if (this.ended) throw new Error('end() after close()');
    const name = operation === undefined ? this.name : checkedOperationName(operation, 'end()');
    const facts = this.host.checkHttpEnd(status, http);
    this.name = name;
    this.status = status;
    this.http = facts;
    this.atEnd = this.host.finish(this, true) as OperationFootprint;
    // Awaited before its end, and not settled at once: the tracker holds it (see pend), and
    // someone waits on the next sample.
    if (this.waiters) this.host.hold(this);
    return this.atEnd;
  }

  /**
   * @internal end() for carbonscope's own callers that drop the result (track(), request
   * tracking): no footprint is built for them, and the operation is not kept for settled()
   * (no one else holds it), so it is garbage as soon as it ends. Nothing is checked: its
   * callers' names are their own, and their facts interned already (a request's hot path).
   */
  close(
    operation?: string,
    status?: number,
    http?: HttpRequestFacts,
    attributes?: OperationAttributes,
  ): void {
    if (this.ended) return;
    if (operation !== undefined) this.name = operation;
    this.status = status;
    this.http = http;
    this.attributes = attributes;
    this.host.finish(this, false);
  }

  run<T>(fn: () => T): T {
    return this.host.runIn(this, fn);
  }

  rename(operation: string): void {
    const name = checkedOperationName(operation, 'rename()');
    if (!this.ended) this.name = name;
  }

  captureContext(): void {
    this.host.capture(this);
  }

  settled(): Promise<OperationFootprint> {
    this.atSettlement ??= this.batch?.footprintOf(this.index);
    if (this.atSettlement) return Promise.resolve(this.atSettlement);
    // Nothing keeps a closed one's figure (its batch, its place in the interval's list), and its
    // settled() waited for ever, settled unread or not: the caller is told so at once. One
    // awaited before its close() is kept for its waiters, and this one waits with them.
    if (this.ended && this.unread) return Promise.reject(closedUnread(this.name));
    return new Promise((resolve) => {
      this.waiters ??= [];
      this.waiters.push(resolve);
      // One never ended waits for its end() (it may never come): the tracker is told then.
      if (this.ended) this.host.hold(this);
    });
  }

  /**
   * @internal the tracker's, once, for one `unread`: settled (its CPU account closes), with no
   * footprint built, where none of its figures' takers wants one.
   */
  settleUnread(): void {
    this.batch = SETTLED_UNREAD;
  }

  /** @internal the tracker's, once: the settled footprint to whoever waits for it. */
  settle(footprint: OperationFootprint): void {
    this.atSettlement = footprint;
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters) for (const resolve of waiters) resolve(footprint);
  }
}

/** settled()'s answer for an operation ended with close(), whose figure no one kept. */
function closedUnread(name: string): Error {
  return new Error(
    `settled() after close() of "${name}": close() keeps no settled figure (onEnd and the metrics have it); end() keeps it for settled()`,
  );
}

/** The batch of every operation settled unread: settled, and with no figure in it. */
const SETTLED_UNREAD = new SettlementBatch();
SETTLED_UNREAD.close();
