/**
 * A series' cumulative points as pushes carry them: the last one the collector is known to
 * hold, and those handed to the exporter after it and not yet answered. What the collector
 * holds of a series is the latest of those that did not fail: a push in flight counts until it
 * fails, as a delta push does (PushedDeltas), and a later push that gets through carries the
 * totals of one before it that failed.
 */
interface SeriesPushes<T> {
  delivered?: { push: number; value: T };
  inFlight: Array<{ push: number; value: T }>;
}

/** A failed push's series whose held value fell: `before` was taken as held, `after` is. */
export type Fallen<T> = (key: string, before: T, after: T | undefined) => void;

/**
 * The cumulative points of the pushes an exporter was handed, kept per series (by `key`): a
 * provider that takes the series over under another resource (another service.instance.id)
 * starts a series of its own, and the collector keeps the old one at its last value until it
 * goes stale; the new one carries on from there, or a sum across them counts twice what the
 * old one was pushed.
 */
export class PushedTotals<T> {
  private readonly series = new Map<string, SeriesPushes<T>>();
  private pushes = 0;

  /** The push of `points` (key, value) handed to the exporter: its number, for settle(). */
  hand(points: ReadonlyArray<{ key: string; value: T }>): number {
    const push = ++this.pushes;
    for (const { key, value } of points) {
      let s = this.series.get(key);
      if (!s) {
        s = { inFlight: [] };
        this.series.set(key, s);
      }
      s.inFlight.push({ push, value });
    }
    return push;
  }

  /** What the collector holds of `key` (the latest push that did not fail); undefined: none. */
  held(key: string): T | undefined {
    const s = this.series.get(key);
    return s && heldOf(s);
  }

  /**
   * Push `push` got through (`ok`) or failed: where it failed, `fallen` is told of each series
   * whose held value it had carried (another push of it, or none, is held now).
   */
  settle(
    push: number,
    keys: readonly string[],
    ok: boolean,
    fallen: Fallen<T> = () => undefined,
  ): void {
    for (const key of keys) {
      const s = this.series.get(key);
      const i = s?.inFlight.findIndex((p) => p.push === push) ?? -1;
      if (!s || i < 0) continue;
      const before = heldOf(s);
      const [entry] = s.inFlight.splice(i, 1);
      if (!entry) continue;
      if (ok) {
        if (!s.delivered || s.delivered.push < push) s.delivered = entry;
        // Those handed before it no longer matter: it carried their totals and more.
        s.inFlight = s.inFlight.filter((p) => p.push > push);
        continue;
      }
      const after = heldOf(s);
      if (before !== undefined && before !== after) fallen(key, before, after);
    }
  }
}

function heldOf<T>(s: SeriesPushes<T>): T | undefined {
  const latest = s.inFlight.at(-1);
  if (latest && (!s.delivered || latest.push > s.delivered.push)) return latest.value;
  return s.delivered?.value;
}
