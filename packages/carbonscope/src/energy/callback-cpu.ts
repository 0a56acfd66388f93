import { type AsyncHook, AsyncLocalStorage, createHook } from 'node:async_hooks';
import { setImmediate } from '../real-timers.js';
import { type PoolAccount, PoolWork } from './pool-work.js';

/** What the callback clock charges: the CPU of one operation's callbacks. */
export interface CpuAccount extends PoolAccount {
  busyMs: number;
  /** Its callbacks while measuring, and how many of them took over from another owner. */
  callbacks: number;
  takeovers: number;
  /** Ended: its callbacks no longer count as a running operation's (see CallbackCpu). */
  readonly ended: boolean;
  /** Settled: charged nothing more, not even by run(). */
  readonly closed: boolean;
}

/** The clocks the callback clock reads, all in milliseconds. */
export interface CpuClocks {
  /**
   * CPU this process has used (process.cpuUsage()), or better its main thread alone (see
   * thread-cpu.ts): read when the owner changes.
   */
  cpu: () => number;
  /**
   * Whether `cpu` reads the main thread alone (thread-cpu.ts), not the whole process. Only then
   * is the work out on libuv's pool followed (PoolWork: an init hook that every async resource
   * of the process pays for while measuring), for the tracker to spread the other threads' CPU
   * by it: the process's clock has the pool's CPU in the callbacks' readings already.
   */
  readonly mainThread: boolean;
  /**
   * Monotonic wall time (read with the CPU, and as a top-level callback ends) and the loop's
   * idle time (read as a top-level callback ends).
   */
  wall: () => number;
  loopIdle: () => number;
}

/**
 * Measures the CPU time of each operation's callbacks: an AsyncLocalStorage carries the
 * operation into everything it schedules, async hooks see every callback (promise reactions
 * included) begin and end, and the process's CPU clock is read whenever the callback about to
 * run belongs to another operation than the one before: the CPU since the last reading was the
 * previous owner's. Consecutive callbacks of one operation cost no reading, and waiting costs no
 * CPU (a thread descheduled by a busy machine is not charged, as a wall clock would charge it).
 *
 * Who owns what:
 * - a callback of a running operation is that operation's, a nested one its own owner's;
 * - the loop's work before a top-level callback (reading the socket that woke it, the timers)
 *   goes with that callback: its busy time (wall less idle, noted when the previous top-level
 *   callback ended) is taken from the CPU reading;
 * - time in callbacks of no running operation (none, or one that has ended: a socket from a
 *   pool, created by an earlier request; a keep-alive connection's parser) goes to the first
 *   running operation that a callback nested in it, or a request announced in it, belongs to
 *   (the response that socket brought, the request that parser read); if none, to no one;
 * - run(fn) charges its operation, even after its end until it is settled.
 *
 * Off until start(): while on, every callback of the process pays for the hooks, every
 * top-level one for two cheap clock reads, and every change of owner for a CPU reading, which
 * is why `calibrated` turns it on only for short windows and `exact` is an opt-in.
 */
export class CallbackCpu {
  private storage: AsyncLocalStorage<CpuAccount> | undefined;
  private readonly hook: AsyncHook;
  /** The owner of the callback being run (or of the last one). */
  private current: CpuAccount | undefined;
  /** The owners of the callbacks the current one is nested in; empty between callbacks. */
  private readonly outer: Array<CpuAccount | undefined> = [];
  /** The CPU and wall clocks at the last reading: what came after is `current`'s, or lent. */
  private last = 0;
  private lastWall = 0;
  /** True while the CPU since `last` is no running operation's yet (see above). */
  private lent = false;
  /** run() calls in progress. */
  private runs = 0;
  /** When the last top-level callback ended (wall, loop idle); NaN once used. */
  private endedWall = Number.NaN;
  private endedIdle = 0;

  /** What the measuring itself costs, per callback and per change of owner (ms). */
  private cost: HookCost | undefined;
  private costing = false;

  /**
   * `netOfHooks`: measure the hooks' own cost at the first start(), for hookCostOf(). A
   * calibration window measures operations to charge them when the hooks are off.
   */
  constructor(
    private readonly clocks: CpuClocks,
    private readonly netOfHooks = false,
  ) {
    this.hook = createHook({ before: () => this.before(), after: () => this.after() });
    this.pool = clocks.mainThread
      ? new PoolWork(clocks.wall, () => this.storage?.getStore())
      : undefined;
  }

  /** Which operation's work is out on libuv's pool, while measuring (see CpuClocks). */
  private readonly pool: PoolWork | undefined;

  get measuring(): boolean {
    return this.storage !== undefined;
  }

  /** The owner the current call runs for (what it schedules carries), while measuring. */
  owner(): CpuAccount | undefined {
    return this.storage?.getStore();
  }

  start(): void {
    if (this.storage) return;
    // A fresh storage each time: what an earlier window left on long-lived resources (a
    // keep-alive connection's parser) is never read again.
    this.storage = new AsyncLocalStorage();
    this.current = undefined;
    this.outer.length = 0;
    this.runs = 0;
    this.lent = false;
    this.endedWall = Number.NaN;
    if (this.netOfHooks && !this.costing) {
      this.costing = true;
      void this.measureCost(this.storage);
    } else {
      this.hook.enable();
    }
    this.pool?.start();
    this.mark(this.clocks.cpu(), this.clocks.wall(), 0);
  }

  /** Charges the pool jobs still out their time so far (at a sample, before it is spread). */
  chargePoolOut(): void {
    this.pool?.chargeOut();
  }

  /** Forgets the pool jobs of settled operations (at a sample). */
  forgetSettled(): void {
    this.pool?.forgetSettled();
  }

  /**
   * The CPU the hooks added to `account`'s callbacks (ms): its callbacks × their cost, and its
   * takeovers × the CPU reading each one costs. An operation has about as many callbacks with
   * the hooks off: what they cost it only while measured.
   */
  hookCostOf(account: CpuAccount): number {
    const cost = this.cost;
    if (!cost) return 0;
    return account.callbacks * cost.perCallback + account.takeovers * cost.perTakeover;
  }

  /**
   * Times awaits (the callbacks a Koa or Express request runs most) with the hooks off, on with
   * one owner and on with two owners taking turns, in alternation so that each is timed with
   * its code as warm as the others'; the median of a few rounds' differences after warm-up
   * rounds (an interrupt or a GC makes one round's figure an outlier). A round runs in
   * microtasks, so no other callback runs inside it; between rounds the hooks are on. Once, at
   * the first window: 9 rounds, the longest (cold) holding the loop 20-45 ms here.
   */
  private async measureCost(storage: AsyncLocalStorage<CpuAccount>): Promise<void> {
    // The wall clock: the CPU clock's steps are coarse next to a round. Other code's microtasks
    // landing in a round make it an outlier, which the median leaves out.
    const { wall } = this.clocks;
    const timed = async (owners: number) => {
      // run() turns a disabled storage back on, and an enabled one keeps Node's init hook on
      // for every promise of the process: a window's storage is never run after its stop.
      if (this.storage !== storage) return Number.NaN;
      const t0 = wall();
      const loops = [];
      for (let k = 0; k < owners; k++) loops.push(storage.run(costAccount(), awaitMany));
      await Promise.all(loops);
      return (wall() - t0) / (owners * COST_AWAITS);
    };
    const perCallback: number[] = [];
    const perTakeover: number[] = [];
    // Other code's microtasks run between these awaits: stop() may come in any of them, and
    // the hooks must then stay off.
    const stopped = () => {
      if (this.storage === storage) return false;
      if (!this.storage) this.hook.disable(); // a newer window keeps them on
      this.costing = false; // the next window measures
      return true;
    };
    for (let round = -COST_WARMUP; round < COST_ROUNDS; round++) {
      this.hook.disable();
      this.pool?.pause();
      const offNow = await timed(1);
      if (stopped()) return;
      this.hook.enable();
      this.pool?.start();
      this.outer.length = 0; // the callback the hooks were turned off in ends unseen
      const oneNow = await timed(1);
      const twoNow = await timed(2);
      if (stopped()) return;
      // What the round cost is no one's.
      this.current = undefined;
      this.lent = false;
      this.mark(this.clocks.cpu(), wall(), 0);
      // Other callbacks run between rounds: the loop is held ~10 ms at a time, not for all.
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped()) return;
      if (round < 0) continue; // warms the code up: cold hooks cost several times more
      perCallback.push(oneNow - offNow);
      perTakeover.push(twoNow - oneNow);
    }
    this.cost = {
      perCallback: Math.max(0, median(perCallback)),
      perTakeover: Math.max(0, median(perTakeover)),
    };
  }

  stop(): void {
    if (!this.storage) return;
    this.hook.disable();
    this.pool?.stop();
    this.storage.disable();
    this.storage = undefined;
    this.current = undefined;
    this.outer.length = 0;
  }

  /**
   * The CPU `account` spent since the clock was last read, not charged yet (ms): a reading is
   * taken only as another owner's callback begins, so an operation asked for its figure in its
   * own callback (a request's access log line, at its `finish`) had its last stretch, often all
   * of its work, unread: 0 ms, and no figure, for every request of a calibration window.
   */
  unread(account: CpuAccount): number {
    if (!this.storage || this.current !== account || this.lent || account.closed) return 0;
    const cpu = this.clocks.cpu() - this.last;
    const elapsed = this.clocks.wall() - this.lastWall;
    return Math.max(0, Math.min(cpu, elapsed));
  }

  /** Runs fn with `account` as the owner of its CPU and of the callbacks it schedules. */
  run<T>(account: CpuAccount, fn: () => T): T {
    const storage = this.storage;
    if (!storage) return fn();
    // Outside any callback or run (a script's top level) nothing before belongs to anyone.
    if (this.outer.length === 0 && this.runs === 0) this.reset();
    const outer = this.current;
    this.switchTo(account, 0, !account.closed);
    this.runs++;
    try {
      return storage.run(account, fn);
    } finally {
      this.runs--;
      this.switchTo(outer, 0, running(outer));
    }
  }

  /**
   * Makes `account` the owner of the rest of the current callback and of what it schedules
   * (AsyncLocalStorage.enterWith): a request, announced in the HTTP parser's callback.
   */
  enter(account: CpuAccount): void {
    const storage = this.storage;
    if (!storage) return;
    this.switchTo(account, 0, running(account));
    storage.enterWith(account);
  }

  private before(): void {
    const owner = this.storage?.getStore();
    const topLevel = this.outer.length === 0;
    this.outer.push(this.current);
    let gap = 0;
    if (topLevel) {
      // What a callback before this one left unclaimed is no one's.
      if (this.lent) this.reset();
      if (owner !== this.current && !Number.isNaN(this.endedWall)) {
        const { wall, loopIdle } = this.clocks;
        gap = wall() - this.endedWall - (loopIdle() - this.endedIdle);
      }
      this.endedWall = Number.NaN;
    }
    if (owner) owner.callbacks++;
    this.switchTo(owner, gap, running(owner));
  }

  private after(): void {
    const outer = this.outer.pop();
    if (this.outer.length > 0) {
      this.switchTo(outer, 0, running(outer));
      return;
    }
    // Back between callbacks the owner stays until one of another owner begins.
    this.endedWall = this.clocks.wall();
    this.endedIdle = this.clocks.loopIdle();
  }

  /**
   * Makes `owner` the owner from now on. The CPU since the last reading goes to the previous
   * owner, but `gap` ms of it (the loop's work just before) to the new one; if the new owner
   * is not `chargeable` (no running operation), what it gets is lent; a chargeable owner takes
   * whatever is lent. The event loop's thread cannot have spent more than the wall time since
   * the reading: CPU beyond it is other threads' (the GC's helpers, a native pool), and is left
   * to no one here (the tracker spreads it over the requests as overhead). Where the CPU clock
   * is the main thread's own (the runtime's, see thread-cpu.ts), other threads' CPU never comes
   * in here: the tracker gives it to the operations whose work was out on libuv's pool.
   */
  private switchTo(owner: CpuAccount | undefined, gap: number, chargeable: boolean): void {
    const previous = this.current;
    if (owner === previous) return;
    const now = this.clocks.cpu();
    const wall = this.clocks.wall();
    const cpu = now > this.last ? now - this.last : 0;
    const elapsed = wall > this.lastWall ? wall - this.lastWall : 0;
    const spent = Math.min(cpu, elapsed);
    this.current = owner;
    if (owner) owner.takeovers++;
    if (this.lent) {
      if (!chargeable) return; // still no one's: it keeps accruing
      (owner as CpuAccount).busyMs += spent;
      this.lent = false;
      this.mark(now, wall, 0);
      return;
    }
    const theirs = gap > 0 ? Math.min(gap, spent) : 0;
    if (previous && !previous.closed) previous.busyMs += spent - theirs;
    if (chargeable) {
      (owner as CpuAccount).busyMs += theirs;
      this.mark(now, wall, 0);
    } else {
      this.lent = true;
      this.mark(now, wall, theirs);
    }
  }

  /** The readings the next share starts from, `back` ms earlier (what is lent with it). */
  private mark(cpu: number, wall: number, back: number): void {
    this.last = cpu - back;
    this.lastWall = wall - back;
  }

  /** Forgets whatever is unclaimed: from now on, no one's until an owner runs. */
  private reset(): void {
    this.lent = false;
    this.current = undefined;
    this.mark(this.clocks.cpu(), this.clocks.wall(), 0);
  }
}

interface HookCost {
  perCallback: number;
  perTakeover: number;
}

const COST_AWAITS = 200;
const COST_WARMUP = 4;
const COST_ROUNDS = 5;

async function awaitMany(): Promise<void> {
  for (let i = 0; i < COST_AWAITS; i++) await null;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function costAccount(): CpuAccount {
  return { busyMs: 0, callbacks: 0, takeovers: 0, poolMs: 0, ended: false, closed: false };
}

/** A running operation: its callbacks are its own. */
function running(owner: CpuAccount | undefined): boolean {
  return owner !== undefined && !owner.ended;
}
