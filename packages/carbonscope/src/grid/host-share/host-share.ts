import type { HeldZone } from '../errors.js';

/** A value as another process of this host fetched it. */
export interface SharedValue<V> {
  value: V;
  /** Epoch ms. */
  fetchedAt: number;
}

/**
 * What the carbonscope processes of one user on one host share of an Electricity Maps key, so
 * that N processes spend one quota as one does: each value fetched (one call a TTL for the
 * host, not one a process) and a rate limit's hold (one 429 holds them all). Every method fails
 * soft: a store it cannot read or write is a store with nothing in it.
 */
export interface HostShare {
  read(key: string): Promise<SharedValue<unknown> | undefined>;
  write(key: string, value: unknown, fetchedAt: number): Promise<void>;
  /**
   * Takes the right to fetch `key` for the host: a release function, or undefined where another
   * process holds it (wait with `waitFor`, then read).
   */
  lock(key: string): Promise<(() => Promise<void>) | undefined>;
  /** Resolves once `key` is no longer locked, or after `ms`, whichever comes first. */
  waitFor(key: string, ms: number): Promise<void>;
  /** The rate limit's hold that another process (or this one) recorded, while it lasts. */
  held(): Promise<HeldZone | undefined>;
  hold(held: HeldZone): Promise<void>;
}
