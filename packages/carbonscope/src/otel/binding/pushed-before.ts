import type { Attributes } from '@opentelemetry/api';

// What bindMetrics and LocalHistograms read of the pushes before them, apart from PushedDeltas
// (../pushed-deltas.ts), which keeps them: binding/ is what the CLI's own provider loads too,
// while the pushed deltas are register's and the instrumentation's alone.

/** One histogram series' deltas, added up over the pushes that carried them. */
export interface PushedHistogram {
  /** Per bucket, as the points' bucket counts are. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Called with a histogram delta taken as pushed whose push then failed. */
export type LostHistogram = (name: string, attributes: Attributes, delta: PushedHistogram) => void;

/**
 * What was pushed before, per series: a provider that takes over observes and replays the rest.
 * A push in flight counts as pushed until it fails; then what it carried is pushed no more.
 */
export interface PushedBefore {
  /** The deltas of counter `name`'s series `attributes` pushed so far (0 for none). */
  sum(name: string, attributes: Attributes): number;
  histogram(name: string, attributes: Attributes): PushedHistogram | undefined;
  /**
   * Has `lost` told of each histogram delta whose push fails from now on: a replay that took
   * it as pushed records it then. Counters need none: they read sum() at each collection.
   */
  onLost(lost: LostHistogram): void;
}
