import { type AsyncHook, createHook, executionAsyncResource } from 'node:async_hooks';

/** What pool work is charged to: the time its jobs were out on other threads. */
export interface PoolAccount {
  /** Milliseconds its pool jobs were out, summed over the jobs (two at once count twice). */
  poolMs: number;
  readonly closed: boolean;
}

/**
 * The async resources whose work runs on libuv's thread pool and is CPU: node:crypto's async
 * jobs (scrypt, pbkdf2, randomBytes, key generation, sign, hash...) and a zlib stream's chunks
 * (gzip, deflate, brotli). The pool's file system and DNS requests are left out: they mostly
 * wait on the disk or the network, and their time out would claim CPU they did not use.
 */
const POOL_CPU_TYPES: ReadonlySet<string> = new Set([
  'CHECKPRIMEREQUEST',
  'CIPHERREQUEST',
  'DERIVEBITSREQUEST',
  'HASHREQUEST',
  'KEYEXPORTREQUEST',
  'KEYGENREQUEST',
  'KEYPAIRGENREQUEST',
  'PBKDF2REQUEST',
  'RANDOMBYTESREQUEST',
  'RANDOMPRIMEREQUEST',
  'SCRYPTREQUEST',
  'SIGNREQUEST',
  'VERIFYREQUEST',
  'ZLIB',
]);

/** Resources followed at once at most: beyond, new pool work is no one's (the overhead). */
const MAX_POOL_JOBS = 4096;

interface Job {
  owner: PoolAccount;
  /** When it went out to the pool, NaN while it is not out (its callback ran). */
  since: number;
  /** A zlib stream: each callback may send the next chunk out. */
  resumes: boolean;
}

/**
 * Tells which operation's work is out on libuv's thread pool, and for how long: an init hook
 * sees a pool resource made in an operation's context, and its callback's begin ends its time
 * out. A zlib stream's chunks go out one after the other, each written in the callback of the
 * one before, so its time out starts again as a callback ends with a chunk out (its handle
 * holds one): a stream that waits for its next write is not out. At a sample a crypto job still
 * out is charged its time so far (chargeOut): the interval's pool CPU meets the time out. A job
 * is forgotten once its operation is settled. Not promises: the hook asks Node to leave them
 * out (Node 24's `trackPromises: false`; earlier versions call it for them, and it returns at
 * once).
 */
export class PoolWork {
  private readonly hook: AsyncHook;
  private readonly jobs = new Map<number, Job>();

  constructor(
    private readonly wall: () => number,
    private readonly owner: () => PoolAccount | undefined,
  ) {
    this.hook = createHook({
      init: (id: number, type: string) => this.init(id, type),
      before: (id: number) => this.back(id),
      after: (id: number) => this.out(id),
      trackPromises: false,
    } as Parameters<typeof createHook>[0]);
  }

  start(): void {
    this.hook.enable();
  }

  stop(): void {
    this.hook.disable();
    this.jobs.clear();
  }

  /** Off for a while, the jobs kept (the callback clock times its hooks with them off). */
  pause(): void {
    this.hook.disable();
  }

  /** Drops the jobs of settled operations: what they send out now is charged to no one. */
  forgetSettled(): void {
    for (const [id, job] of this.jobs) if (job.owner.closed) this.jobs.delete(id);
  }

  /**
   * Charges each crypto job still out its time so far, and starts it again from now (at a
   * sample): a job out across a sample is charged in each interval it ran in. Not a zlib
   * stream's chunk (a millisecond or so): its error callback leaves the chunk on the handle
   * with none out, and each sample would charge a failed stream until its operation settles.
   */
  chargeOut(): void {
    if (this.jobs.size === 0) return;
    const now = this.wall();
    for (const job of this.jobs.values()) {
      if (job.resumes || Number.isNaN(job.since) || job.owner.closed) continue;
      const out = now - job.since;
      if (out > 0) job.owner.poolMs += out;
      job.since = now;
    }
  }

  /** Jobs followed now (for tests). */
  get size(): number {
    return this.jobs.size;
  }

  private init(id: number, type: string): void {
    if (type === 'PROMISE' || !POOL_CPU_TYPES.has(type)) return;
    const owner = this.owner();
    if (!owner || owner.closed || this.jobs.size >= MAX_POOL_JOBS) return;
    this.jobs.set(id, { owner, since: this.wall(), resumes: type === 'ZLIB' });
  }

  /** Its callback begins: the work it waited for is done. */
  private back(id: number): void {
    if (this.jobs.size === 0) return;
    const job = this.jobs.get(id);
    if (!job || Number.isNaN(job.since)) return;
    const out = this.wall() - job.since;
    if (out > 0 && !job.owner.closed) job.owner.poolMs += out;
    job.since = Number.NaN;
  }

  /** Its callback ends: a zlib stream may have sent its next chunk out in it. */
  private out(id: number): void {
    if (this.jobs.size === 0) return;
    const job = this.jobs.get(id);
    if (!job) return;
    if (!job.resumes || job.owner.closed) {
      this.jobs.delete(id); // a crypto job is done
      return;
    }
    // node:zlib's handle holds the chunk it works on (`buffer`) until that chunk is done, the
    // next one written in this callback included: none, the stream waits for the app. Where a
    // Node lacks the field, a stream's later chunks go uncounted rather than its waits counted.
    const chunk = (executionAsyncResource() as { buffer?: unknown }).buffer;
    job.since = chunk !== null && chunk !== undefined ? this.wall() : Number.NaN;
  }
}
