/** Where an intensity value came from, in the order the fallback chain tries them. */
export type IntensitySource = 'fixed' | 'electricity-maps' | 'annual-average' | 'world-average';

export interface IntensityReading {
  zone: string;
  /** gCO2e per kWh. */
  carbonIntensity: number;
  unit: 'gCO2e/kWh';
  source: IntensitySource;
  /**
   * The upstream did not mark the value measured (`isEstimated: false`, no estimation method),
   * or it is an annual/world average.
   */
  isEstimated: boolean;
  /** The last good upstream value, served because a fresh lookup failed. */
  stale: boolean;
  /**
   * How old the data is, in seconds: since its `datetime` (the hour it stands for), or since its
   * fetch when that is earlier (a datetime ahead of our clock) or the datetime unreadable; the
   * age GRID_STALE_MAX_AGE_SECONDS limits. 0 for fixed and average sources.
   */
  ageSeconds: number;
  /** The instant the value is valid for (upstream's `datetime`), null for averages. */
  datetime: string | null;
  /** When the value was fetched from the upstream (when it was made, for the other sources). */
  fetchedAt: string;
  /**
   * Why this source answered when it is not the first choice (e.g. "Electricity Maps did not
   * answer in time"), or what an average is based on. Absent for a fresh upstream value.
   */
  note?: string;
}

export interface IntensityHistory {
  zone: string;
  source: IntensitySource;
  unit: 'gCO2e/kWh';
  /** Empty when the source has no history (fixed value, annual averages); `note` says why. */
  history: Array<{ datetime: string; carbonIntensity: number; isEstimated: boolean }>;
  note?: string;
  /** The last good upstream history, served because a fresh lookup failed. */
  stale?: boolean;
  /** When the history was fetched from the upstream; absent for sources without history. */
  fetchedAt?: string;
}

/**
 * What the rest of the service knows of the grid. Routes and the meter depend on this
 * interface, never on the Electricity Maps client.
 */
export interface GridIntensity {
  readonly defaultZone: string;
  /** The best answer the fallback chain has; rejects only for an invalid or unknown zone. */
  current(zone?: string): Promise<IntensityReading>;
  /**
   * current()'s answer when it needs no lookup, without a promise; undefined when current()
   * would look up (an optional fast path: a caller falls back to current()).
   */
  currentAtHand?(zone?: string): IntensityReading | undefined;
  /** The last answer for a zone without I/O, for hot paths such as the meter's sample. */
  peek(zone?: string): IntensityReading | undefined;
  history(zone?: string): Promise<IntensityHistory>;
}

/**
 * One value as Electricity Maps gives it, checked and trimmed to what the service uses: here, not
 * beside the client, since the host's shared tier (host-share/) reads it too.
 */
export interface UpstreamPoint {
  zone: string;
  carbonIntensity: number;
  datetime: string;
  isEstimated: boolean;
  estimationMethod: string | null;
}
