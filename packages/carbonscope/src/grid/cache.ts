/**
 * A small per-key cache made for a slow, quota-limited upstream:
 * - fresh for `ttlMs`, or until the value says it ages out if sooner, then the next lookup
 *   reloads;
 * - coalescing: concurrent lookups of one key share one load;
 * - stale-if-error: when a reload fails, the last good value is still returned, marked stale;
 * - error hold-down: after a failure the key is not reloaded for `errorHoldMs`, so a broken
 *   upstream is not asked again by every request;
 * - bounded: at most `maxEntries` keys, least recently used evicted first.
 *
 * Written here rather than taken from lru-cache because the callers need the staleness and
 * the failure reason of each answer, and a synchronous peek, which its fetch() API hides.
 */

export interface CacheOptions<V> {
  ttlMs: number;
  /** How long a failure keeps the key from reloading; may depend on the error. */
  errorHoldMs: (error: unknown) => number;
  maxEntries: number;
  /** Epoch ms: when a value was fetched, as answers show it and freshUntil reads it. */
  now: () => number;
  /**
   * Monotonic ms, for the TTL and the hold-down: on the wall clock a clock set back an hour kept
   * a value fresh for an hour and its TTL.
   */
  clock: () => number;
  /**
   * The last instant (epoch ms) a value may be served as fresh, when that can come before its
   * TTL ends (a value that ages out); absent, only the TTL counts.
   */
  freshUntil?: (value: Cached<V>) => number;
}

export interface Cached<V> {
  value: V;
  /** Epoch ms. */
  fetchedAt: number;
  /** The same instant on the monotonic clock, which the TTL counts from. */
  loadedAt: number;
}

/** What a lookup gives: a value (maybe stale) and/or the error of the last load. */
export type Lookup<V> =
  | ({ ok: true; stale: false } & Cached<V>)
  | {
      ok: false;
      error: unknown;
      last: Cached<V> | undefined;
      /** Monotonic ms: when the key may be loaded again. */
      retryAt: number;
    };

interface Entry<V> {
  good: Cached<V> | undefined;
  /** Monotonic ms. */
  holdUntil: number;
  error: unknown;
  inflight: Promise<Lookup<V>> | undefined;
}

export class CoalescingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly options: CacheOptions<V>) {}

  /** The freshest answer: cached if still fresh, else one shared load for all callers. */
  get(key: string, load: () => Promise<V>): Promise<Lookup<V>> {
    const entry = this.touch(key);
    const now = this.options.clock();
    if (entry.good && this.isFresh(entry.good, now)) {
      return Promise.resolve({ ok: true, ...entry.good, stale: false });
    }
    if (entry.inflight) return entry.inflight;
    if (entry.error !== undefined && now < entry.holdUntil) {
      return Promise.resolve({
        ok: false,
        error: entry.error,
        last: entry.good,
        retryAt: entry.holdUntil,
      });
    }
    // Cleared only once settled, and only if still ours: a synchronous throw in `load` must not
    // leave a settled promise behind as "in flight".
    const inflight: Promise<Lookup<V>> = this.load(entry, load).finally(() => {
      if (entry.inflight === inflight) entry.inflight = undefined;
    });
    entry.inflight = inflight;
    return inflight;
  }

  /** The last good value without I/O or bookkeeping. */
  peek(key: string): Cached<V> | undefined {
    return this.entries.get(key)?.good;
  }

  /** True when a lookup now would start a load (expired, not loading, not held down). */
  needsRefresh(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return true;
    if (entry.inflight) return false;
    const now = this.options.clock();
    if (entry.error !== undefined && now < entry.holdUntil) return false;
    return !entry.good || !this.isFresh(entry.good, now);
  }

  /** True while a load for the key is in flight. */
  loading(key: string): boolean {
    return this.entries.get(key)?.inflight !== undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** `now`: monotonic ms; freshUntil is read against the wall clock, as it is about the data. */
  private isFresh(good: Cached<V>, now: number): boolean {
    if (now - good.loadedAt >= this.options.ttlMs) return false;
    const freshUntil = this.options.freshUntil;
    return freshUntil === undefined || this.options.now() <= freshUntil(good);
  }

  private async load(entry: Entry<V>, load: () => Promise<V>): Promise<Lookup<V>> {
    try {
      const value = await load();
      entry.good = { value, fetchedAt: this.options.now(), loadedAt: this.options.clock() };
      entry.error = undefined;
      return { ok: true, ...entry.good, stale: false };
    } catch (error) {
      entry.error = error ?? new Error('load failed');
      entry.holdUntil = this.options.clock() + this.options.errorHoldMs(entry.error);
      return { ok: false, error: entry.error, last: entry.good, retryAt: entry.holdUntil };
    }
  }

  private touch(key: string): Entry<V> {
    let entry = this.entries.get(key);
    if (entry) {
      // Re-inserting moves the key to the young end of the Map's insertion order.
      this.entries.delete(key);
    } else {
      entry = { good: undefined, holdUntil: 0, error: undefined, inflight: undefined };
      while (this.entries.size >= this.options.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
      }
    }
    this.entries.set(key, entry);
    return entry;
  }
}
