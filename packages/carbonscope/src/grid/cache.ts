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
  /**
   * The values other processes of the host fetched: a load takes one there that is still fresh
   * by the rules above (its TTL counted from its fetch there) rather than call, and one process
   * of the host calls at a time for a key, the others waiting for its answer.
   */
  shared?: SharedTier<V>;
}

/** The host's values for the cache (see HostShare), checked as they are read. */
export interface SharedTier<V> {
  read(key: string): Promise<{ value: V; fetchedAt: number } | undefined>;
  write(key: string, value: V, fetchedAt: number): Promise<void>;
  lock(key: string): Promise<(() => Promise<void>) | undefined>;
  /** Waits for another process's load of `key` to end (bounded). */
  waitFor(key: string): Promise<void>;
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
    const inflight: Promise<Lookup<V>> = this.load(key, entry, load).finally(() => {
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

  private async load(key: string, entry: Entry<V>, load: () => Promise<V>): Promise<Lookup<V>> {
    try {
      entry.good = await this.loaded(key, load);
      entry.error = undefined;
      return { ok: true, ...entry.good, stale: false };
    } catch (error) {
      // A process new to the key keeps what another fetched as its last good value: without
      // it, each run of a CI job that met a rate limit priced at the average.
      if (entry.good === undefined && this.options.shared !== undefined) {
        entry.good = await this.sharedAsLoaded(this.options.shared, key);
      }
      entry.error = error ?? new Error('load failed');
      entry.holdUntil = this.options.clock() + this.options.errorHoldMs(entry.error);
      return { ok: false, error: entry.error, last: entry.good, retryAt: entry.holdUntil };
    }
  }

  /** The host's fresh value for `key`, else one loaded here (and shared). */
  private async loaded(key: string, load: () => Promise<V>): Promise<Cached<V>> {
    const shared = this.options.shared;
    if (shared === undefined) return this.stamped(await load());
    const found = await this.freshShared(shared, key);
    if (found) return found;
    const release = await shared.lock(key);
    if (release === undefined) await shared.waitFor(key);
    try {
      // Read again: a process may have written the value between the first read and the lock.
      const theirs = await this.freshShared(shared, key);
      if (theirs) return theirs;
      const good = this.stamped(await load());
      await shared.write(key, good.value, good.fetchedAt);
      return good;
    } finally {
      await release?.();
    }
  }

  private stamped(value: V): Cached<V> {
    return { value, fetchedAt: this.options.now(), loadedAt: this.options.clock() };
  }

  /** A shared value as if loaded here at its fetch, kept only while the rules say it is fresh. */
  private async freshShared(shared: SharedTier<V>, key: string): Promise<Cached<V> | undefined> {
    const cached = await this.sharedAsLoaded(shared, key);
    return cached && this.isFresh(cached, this.options.clock()) ? cached : undefined;
  }

  /** The host's value for `key` as if loaded here when it was fetched there, fresh or not. */
  private async sharedAsLoaded(shared: SharedTier<V>, key: string): Promise<Cached<V> | undefined> {
    const found = await shared.read(key);
    if (found === undefined) return undefined;
    const age = Math.max(0, this.options.now() - found.fetchedAt);
    return { value: found.value, fetchedAt: found.fetchedAt, loadedAt: this.options.clock() - age };
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
