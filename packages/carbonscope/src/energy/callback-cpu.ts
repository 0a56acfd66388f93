import { type AsyncHook, AsyncLocalStorage, createHook } from 'node:async_hooks';
import type { Clock } from './probes.js';

/** What the callback clock charges: the event loop's time in one operation's callbacks. */
export interface CpuAccount {
  busyMs: number;
  /** Ended: it owns no new request announced in its callbacks. */
  readonly ended: boolean;
  /**
   * Settled: charged nothing more. Between its end and its settlement it is still charged for
   * the callbacks it scheduled (its response's writes, its connection's clean-up).
   */
  readonly closed: boolean;
}

/**
 * Measures how long the event loop runs each operation's callbacks: an AsyncLocalStorage carries
 * the operation into everything it schedules, and async hooks time every callback (promise
 * reactions included) from its `before` to its `after`. A callback nested in another is timed
 * for itself, not for its parent. Off until start(): while on, every callback of the process
 * pays for the hooks and two clock reads, which is why `calibrated` turns it on only for short
 * windows and `exact` is an opt-in.
 */
export class CallbackCpu {
  private storage: AsyncLocalStorage<CpuAccount> | undefined;
  private readonly hook: AsyncHook;
  private current: CpuAccount | undefined;
  /** The owners of the callbacks this one is nested in; empty between callbacks. */
  private readonly outer: Array<CpuAccount | undefined> = [];
  private last = 0;

  constructor(private readonly clock: Clock) {
    this.hook = createHook({ before: () => this.before(), after: () => this.after() });
  }

  get measuring(): boolean {
    return this.storage !== undefined;
  }

  start(): void {
    if (this.storage) return;
    // A fresh storage each time: what an earlier window left on long-lived resources (a
    // keep-alive connection's parser) is never read again.
    this.storage = new AsyncLocalStorage();
    this.current = undefined;
    this.outer.length = 0;
    this.hook.enable();
  }

  stop(): void {
    if (!this.storage) return;
    this.hook.disable();
    this.storage.disable();
    this.storage = undefined;
    this.current = undefined;
    this.outer.length = 0;
  }

  /** Runs fn with `account` as the owner of its time and of the callbacks it schedules. */
  run<T>(account: CpuAccount, fn: () => T): T {
    const storage = this.storage;
    if (!storage) return fn();
    this.mark();
    const outer = this.current;
    this.current = account;
    try {
      return storage.run(account, fn);
    } finally {
      this.charge(this.clock());
      this.current = outer;
    }
  }

  /**
   * Makes `account` the owner of the rest of the current callback and of what it schedules
   * (AsyncLocalStorage.enterWith). A request is announced inside the HTTP parser's callback,
   * which belongs to no running operation (at most to the connection's previous request, which
   * has ended): the callback so far is the new request's (it parsed it).
   */
  enter(account: CpuAccount): void {
    const storage = this.storage;
    if (!storage) return;
    const owner = this.current;
    if ((owner && !owner.ended) || this.outer.length === 0) this.mark();
    storage.enterWith(account);
    this.current = account;
  }

  private before(): void {
    const now = this.clock();
    if (this.outer.length > 0) {
      this.charge(now);
      this.outer.push(this.current);
    } else {
      // Between callbacks the loop waited or did its own work: no one's.
      this.last = now;
      this.outer.push(undefined);
    }
    this.current = this.storage?.getStore();
  }

  private after(): void {
    this.charge(this.clock());
    this.current = this.outer.pop();
  }

  /** Closes the time so far: its owner, if any, gets it. */
  private mark(): void {
    this.charge(this.clock());
  }

  private charge(now: number): void {
    const owner = this.current;
    if (owner && !owner.closed && now > this.last) owner.busyMs += now - this.last;
    this.last = now;
  }
}
