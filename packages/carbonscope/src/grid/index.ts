import { type Clock, durationClock } from '../clocks.js';
import type { BoundedLabelSet } from '../labels/index.js';
import type { Logger } from '../log.js';
import type { GridSettings, Settings } from '../settings.js';
import { withoutCredentials } from '../url-credentials.js';
import {
  createElectricityMapsClient,
  DEFAULT_RETRY,
  type FetchLike,
  MAX_RATE_LIMIT_HOLD_MS,
  type RetryPolicy,
} from './electricity-maps-client.js';
import { FileHostShare, type HostShare, hostShareDir } from './host-share/index.js';
import { IntensityService } from './intensity-service.js';
import { gaugeZones } from './metrics.js';

export {
  electricityMapsZones,
  MAX_ZONE_LENGTH,
  type ZoneKind,
  zoneKeyCase,
  zoneKind,
} from '../zones.js';
export { IntensityService, type IntensityServiceOptions } from './intensity-service.js';
export { registerGridMetrics } from './metrics.js';
export type {
  GridIntensity,
  IntensityHistory,
  IntensityReading,
  IntensitySource,
} from './types.js';

export interface GridIntensityOptions {
  config: Pick<Settings, 'grid'>;
  logger: Logger;
  /** The HTTP client for Electricity Maps; global fetch by default. */
  fetch?: FetchLike;
  /** Epoch milliseconds: the data's age and the times answers show. */
  now?: () => number;
  /**
   * Monotonic milliseconds, for the TTL, hold-downs, the budget and timeouts (performance.now
   * by default); tests move it, with `now`, to expire the cache.
   */
  clock?: Clock;
  /**
   * Milliseconds that go on while the machine is suspended, added to `clock` for the TTL,
   * hold-downs and the budget (see suspendAwareClock): Linux's boot clock with the default
   * clock, none with a scripted one.
   */
  bootClock?: Clock;
  /** Retry and backoff; tests shrink the delays. */
  retry?: Partial<RetryPolicy>;
  /** Waits between retries; tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * What the host's other carbonscope processes share of the key (their values, a rate limit's
   * hold): by default files in `<os.tmpdir()>/carbonscope-grid-<uid>/`, with the real clock
   * only (a scripted `now` is no other process's time); false: this process alone, as
   * `GRID_SHARE=process` says (this option, where given, decides).
   */
  share?: HostShare | false;
  /** How many requested zones besides the configured one the gauge reports, for good (default 8). */
  metricZones?: number;
}

/**
 * The grid intensity service for the app and the meter: Electricity Maps when a key is set,
 * annual averages otherwise, a fixed value when CARBON_INTENSITY says so. Logs once which of
 * them answers. `reportedZones` are the zones its gauge may report (see registerGridMetrics).
 */
export function createGridIntensity(options: GridIntensityOptions): GridService {
  const { grid } = options.config;
  const logger = options.logger;
  const now = options.now ?? Date.now;
  const clock = durationClock(options);
  // A lookup's retries, and a Retry-After waited for, come within its timeout and that wait.
  const lookupMs = grid.timeoutMs + DEFAULT_RETRY.maxRetryAfterMs;
  const share = grid.apiKey ? hostShare(options, grid, lookupMs) : undefined;
  const client = grid.apiKey
    ? createElectricityMapsClient({
        baseUrl: grid.baseUrl,
        apiKey: grid.apiKey,
        timeoutMs: grid.timeoutMs,
        retry: options.retry,
        fetch: options.fetch,
        sleep: options.sleep,
        now,
        clock,
        warn: (line) => logger.warn(line),
        share,
      })
    : undefined;
  const zones = gaugeZones(grid.zone, options.metricZones ?? 8);
  const service = new IntensityService({
    defaultZone: grid.zone,
    fixedIntensity: grid.fixedIntensity,
    client,
    cacheTtlMs: grid.cacheTtlMs,
    maxStaleMs: grid.maxStaleMs,
    otherZoneLookupsPerHour: grid.otherZoneLookupsPerHour,
    now,
    clock,
    logger,
    share,
    shareWaitMs: lookupMs,
    onZoneUsed: (zone) => zones.label(zone),
  });
  logStartup(logger, service, grid);
  return Object.assign(service, { reportedZones: zones });
}

function hostShare(
  options: GridIntensityOptions,
  grid: GridSettings,
  lookupMs: number,
): HostShare | undefined {
  if (options.share !== undefined) return options.share === false ? undefined : options.share;
  if (options.now !== undefined || !grid.apiKey || grid.share === 'process') return undefined;
  // No uid (Windows): no owner and mode bits to keep the folder private, so nothing shared, and
  // no warn line at each start saying so.
  if (process.getuid === undefined) return undefined;
  return new FileHostShare({
    dir: hostShareDir(),
    baseUrl: grid.baseUrl,
    apiKey: grid.apiKey,
    now: Date.now,
    maxHoldMs: MAX_RATE_LIMIT_HOLD_MS,
    lockStaleMs: lookupMs + 1000,
    warn: (line) => options.logger.warn(line),
  });
}

/** The grid service with the zones its gauge reports (the configured one and the first others). */
export type GridService = IntensityService & { readonly reportedZones: BoundedLabelSet };

function logStartup(logger: Logger, service: IntensityService, grid: GridSettings): void {
  const zone = grid.zone;
  if (service.mode === 'fixed') {
    logger.info(
      { zone, carbonIntensity: grid.fixedIntensity },
      'grid intensity fixed by CARBON_INTENSITY; Electricity Maps and averages are not used',
    );
  } else if (service.mode === 'annual-average') {
    const reading = service.peek(zone);
    logger.info(
      { zone, carbonIntensity: reading?.carbonIntensity, source: reading?.source },
      'no ELECTRICITY_MAPS_API_KEY: grid intensity comes from annual averages (@tgwf/co2 data), not live values',
    );
  } else {
    logger.info(
      {
        zone,
        baseUrl: withoutCredentials(grid.baseUrl),
        cacheTtlMs: grid.cacheTtlMs,
        timeoutMs: grid.timeoutMs,
        maxStaleMs: grid.maxStaleMs,
        otherZoneLookupsPerHour: grid.otherZoneLookupsPerHour,
      },
      'grid intensity from Electricity Maps, with annual averages as fallback',
    );
  }
}

export { type AnnualAverage, annualAverage } from './annual-averages.js';
export {
  type HeldZone,
  InvalidZoneError,
  LookupsLimitedError,
  UnknownZoneError,
  UpstreamError,
  type UpstreamErrorKind,
} from './errors.js';
