import { durationClock } from '../clocks.js';
import type { Logger } from '../log.js';
import {
  DEFAULT_OTHER_ZONE_LOOKUPS_PER_HOUR,
  DEFAULT_STALE_MAX_AGE_SECONDS,
  ZONE_PATTERN,
} from '../settings.js';
import { spanText } from '../span-text.js';
import { untraced } from '../untraced.js';
import { KNOWN_ZONES_BOUND, MAX_ZONE_LENGTH, zoneKind } from '../zones.js';
import { type AnnualAverage, annualAverage } from './annual-averages.js';
import { type Cached, CoalescingCache } from './cache.js';
import {
  type ElectricityMapsClient,
  MAX_RATE_LIMIT_HOLD_MS,
  type UpstreamPoint,
} from './electricity-maps-client.js';
import { InvalidZoneError, lookupsLimitedText, UnknownZoneError, UpstreamError } from './errors.js';
import { type HostShare, sharedPoint, sharedPoints, sharedTier } from './host-share/index.js';
import { LookupBudget } from './lookup-budget.js';
import type { GridIntensity, IntensityHistory, IntensityReading } from './types.js';
import { type LookupFailure, lookupFailure, UpstreamOutages } from './upstream-outages.js';

export interface IntensityServiceOptions {
  defaultZone: string;
  /** CARBON_INTENSITY: when set, overrides every other source. */
  fixedIntensity?: number;
  /** Absent when no key is configured: the service then answers from annual averages. */
  client?: ElectricityMapsClient;
  cacheTtlMs: number;
  /**
   * After a failed lookup, how long a zone is not asked again (default min(30 s, TTL); a
   * rejected key waits a whole TTL, a Retry-After is honoured up to 5 min, and a rate limit
   * without one waits those 5 min).
   */
  errorHoldMs?: number;
  /**
   * The oldest an Electricity Maps value may be, counted from its own `datetime` (from its
   * fetch when that is later), and still be served: stale when the upstream fails, or live
   * when it answers late (never less than the value's own hour); past it the annual average
   * answers (GRID_STALE_MAX_AGE_SECONDS, default 3 h).
   */
  maxStaleMs?: number;
  /** How many zones are cached at most (default: every known zone, so each costs one call a TTL). */
  maxZones?: number;
  /**
   * Upstream lookups an hour for zones other than `defaultZone`, which is never limited; past it
   * current() and history() answer without a call, as for a failed lookup: the last good value
   * stale, else the average, with a note saying when a lookup may start (default 6; see
   * DEFAULT_OTHER_ZONE_LOOKUPS_PER_HOUR).
   */
  otherZoneLookupsPerHour?: number;
  /** Epoch ms: the data's age and the times answers show. */
  now: () => number;
  /**
   * Monotonic ms, for the TTL, hold-downs and the budget (the monotonic clock by default, with
   * the time suspended added, see `bootClock`): on the wall clock a clock set back an hour kept
   * a value fresh 3,900 s.
   */
  clock?: () => number;
  /**
   * Milliseconds that go on while the machine is suspended, added to `clock` (see
   * suspendAwareClock): Linux's boot clock with the default clock, none with a scripted one.
   */
  bootClock?: () => number;
  logger: Logger;
  /**
   * The host's other carbonscope processes on this key (see HostShare): values fetched there are
   * taken while fresh, and one process of the host fetches a zone at a time.
   */
  share?: HostShare;
  /** How long a lookup waits for another process's fetch of its zone (default 10 s). */
  shareWaitMs?: number;
  /** Called with each zone answered by current(), for bounded per-zone metrics. */
  onZoneUsed?: (zone: string) => void;
}

const UNIT = 'gCO2e/kWh' as const;

/**
 * A history is the last 24 h: a point older than that is not served (historyOf), and one last
 * good longer ago than that has no point in that window, so it is not served stale whatever the
 * current value's limit.
 */
const STALE_HISTORY_MAX_MS = 24 * 3600_000;

/**
 * Electricity Maps' values are hourly: the value for the hour now running is the current one
 * whatever the age limit (0 included), or a limit under an hour would switch live data off.
 */
const VALUE_HOUR_MS = 3600_000;

/** The answer last given for a zone, with how long current() may give it again without I/O. */
interface Memo {
  reading: IntensityReading;
  /** Epoch ms ageSeconds counts from: the value's own time (see ageFrom). */
  ageFromMs: number;
  /** Monotonic ms: until then current() answers the memo without a lookup. */
  validUntil: number;
  /**
   * An Electricity Maps value, live or stale, is served until then (its age limit); +Infinity
   * for every other one.
   */
  staleUntil: number;
  /**
   * The average a reader without a lookup (a scrape) sees once `staleUntil` passed, made once
   * and never logged: the switch is the next lookup's to say.
   */
  standIn?: IntensityReading;
}

/**
 * The fallback chain: fixed value → Electricity Maps (cached, coalesced) → last good value
 * (stale) → the zone's annual average → the world average. Every answer says its source.
 */
export class IntensityService implements GridIntensity {
  readonly defaultZone: string;
  private readonly latest: CoalescingCache<UpstreamPoint>;
  private readonly histories: CoalescingCache<UpstreamPoint[]>;
  private readonly memos = new Map<string, Memo>();
  /**
   * Zones whose last good value went past its age limit and which have not had a live value
   * since: the switch to the average is said once per outage. Only known zones get here, so it
   * is bounded by them.
   */
  private readonly agedOut = new Set<string>();
  /** Each endpoint's outages, said once per run, reminded, and their end said once. */
  private readonly outages: UpstreamOutages;
  private readonly historyOutages: UpstreamOutages;
  private readonly errorHoldMs: number;
  private readonly maxStaleMs: number;
  private readonly maxZones: number;
  private readonly budget: LookupBudget;
  private readonly clock: () => number;
  /** The budget's refusal was logged, and no lookup was taken from it since. */
  private budgetSpentSaid = false;

  constructor(private readonly options: IntensityServiceOptions) {
    this.clock = durationClock(options);
    this.defaultZone = options.defaultZone;
    this.errorHoldMs = options.errorHoldMs ?? Math.min(30_000, options.cacheTtlMs);
    this.maxStaleMs = options.maxStaleMs ?? DEFAULT_STALE_MAX_AGE_SECONDS * 1000;
    this.maxZones = options.maxZones ?? KNOWN_ZONES_BOUND;
    this.budget = new LookupBudget(
      options.otherZoneLookupsPerHour ?? DEFAULT_OTHER_ZONE_LOOKUPS_PER_HOUR,
      this.clock,
    );
    this.outages = new UpstreamOutages(options.logger, 'latest');
    this.historyOutages = new UpstreamOutages(options.logger, 'history');
    const cacheOptions = {
      ttlMs: options.cacheTtlMs,
      errorHoldMs: (error: unknown) => this.holdFor(error),
      maxEntries: this.maxZones,
      now: options.now,
      clock: this.clock,
    };
    const share = options.share;
    const waitMs = options.shareWaitMs ?? 10_000;
    // A value live when it came is asked for again as its limit passes, however fresh.
    this.latest = new CoalescingCache({
      ...cacheOptions,
      freshUntil: (v) => this.askAgainAfter(v),
      shared: share && sharedTier(share, 'latest', sharedPoint, waitMs),
    });
    this.histories = new CoalescingCache({
      ...cacheOptions,
      shared: share && sharedTier(share, 'history', sharedPoints, waitMs),
    });
  }

  /** Which source answers when the upstream is fine, for the start-up log line. */
  get mode(): 'fixed' | 'electricity-maps' | 'annual-average' {
    if (this.options.fixedIntensity !== undefined) return 'fixed';
    return this.options.client ? 'electricity-maps' : 'annual-average';
  }

  async current(zone: string = this.defaultZone): Promise<IntensityReading> {
    const atHand = this.currentAtHand(zone);
    if (atHand !== undefined) return atHand;
    checkZone(zone);
    const reading = await this.lookup(zone);
    this.options.onZoneUsed?.(zone);
    return reading;
  }

  /**
   * current()'s answer where it needs no lookup, at once: the zone's answer is remembered and
   * still valid (what current() gives then, with the same metric and log lines); undefined where
   * current() would look up. For a route that answers without an await when it can.
   */
  currentAtHand(zone: string = this.defaultZone): IntensityReading | undefined {
    const memo = this.memos.get(zone);
    if (memo === undefined) return undefined;
    // A fixed value, or an average without a key, is valid for good and never ages: no clock
    // is read (the monotonic one makes an array per read).
    if (memo.validUntil === Number.POSITIVE_INFINITY && !hasAge(memo)) {
      this.options.onZoneUsed?.(zone);
      return memo.reading;
    }
    const now = this.options.now();
    if (this.clock() >= memo.validUntil || asksAgain(memo, now)) return undefined;
    this.options.onZoneUsed?.(zone);
    return now > memo.staleUntil ? this.switched(zone, memo, now) : this.aged(memo, now);
  }

  peek(zone: string = this.defaultZone): IntensityReading | undefined {
    try {
      const now = this.options.now();
      // The meter calls this every sample: keep the value fresh without making it wait, and as
      // the value ages out have a lookup ask again (a live one) or say the switch to the
      // average (a stale one, at once: no I/O).
      if (this.options.client && this.dueForLookup(zone, now) && isWellFormed(zone)) {
        // Whoever peeks does not wait for it: a refresh of carbonscope's own, in no trace.
        untraced(() => this.current(zone)).catch(() => undefined);
      }
      const memo = this.memos.get(zone);
      if (memo !== undefined) return this.served(zone, memo, now);
      if (!isWellFormed(zone)) return undefined;
      const average = annualAverage(zone);
      if (average === undefined) return undefined;
      const settled = this.settledReading(zone, average);
      if (settled) return this.remember(zone, settled, Number.POSITIVE_INFINITY);
      // Electricity Maps is being asked (above): the average stands in until it answers.
      const waiting = this.averageReading(zone, average, this.waitingNote());
      return this.remember(zone, waiting, this.clock());
    } catch {
      return undefined;
    }
  }

  /**
   * The last answer for a zone without starting any refresh or logging anything (for metric
   * callbacks: a scrape's timing is not the data's).
   */
  lastReading(zone: string): IntensityReading | undefined {
    const memo = this.memos.get(zone);
    return memo === undefined ? undefined : this.served(zone, memo, this.options.now());
  }

  /**
   * The memo expired and the upstream may be asked, or its live value aged out and the upstream
   * is not being asked again yet, or its stale value aged out unsaid.
   */
  private dueForLookup(zone: string, now: number): boolean {
    const memo = this.memos.get(zone);
    if (memo === undefined || this.clock() >= memo.validUntil) {
      return this.latest.needsRefresh(zone);
    }
    if (now <= memo.staleUntil) return false;
    return asksAgain(memo, now) ? this.latest.needsRefresh(zone) : true;
  }

  async history(zone: string = this.defaultZone): Promise<IntensityHistory> {
    checkZone(zone);
    if (this.options.fixedIntensity !== undefined) {
      return noHistory(zone, 'fixed', 'a fixed CARBON_INTENSITY value has no history');
    }
    const average = knownZone(zone);
    const client = this.options.client;
    if (!client || zoneKind(zone) !== 'electricity-maps') {
      const why = client
        ? `Electricity Maps has no zone ${zone}`
        : 'no Electricity Maps key is configured';
      return noHistory(
        zone,
        average.source,
        `${why}: ${average.basis} is used, which has no history`,
      );
    }
    const waitMs = this.budgetWait(zone, this.histories);
    if (waitMs > 0) return this.limitedHistory(zone, average, waitMs);
    const result = await this.histories.get(zone, () =>
      this.logged(zone, 'history', client.history(zone)),
    );
    const now = this.options.now();
    if (result.ok) {
      this.historyOutages.recovered(zone, this.clock());
      return historyOf(zone, result.value, result.fetchedAt, false, now);
    }
    const summary = summaryOf(result.error);
    const failure = lookupFailure(result.error);
    if (result.last && now - result.last.fetchedAt <= STALE_HISTORY_MAX_MS) {
      const out = historyOf(zone, result.last.value, result.last.fetchedAt, true, now);
      out.note = `${summary}; serving the last good history`;
      this.historyOutages.failed(zone, failure, 'serving the last good history', this.clock());
      return out;
    }
    this.historyOutages.failed(
      zone,
      failure,
      `no history (${average.basis} has none)`,
      this.clock(),
    );
    return noHistory(zone, average.source, `${summary}; ${average.basis} has no history`);
  }

  private async lookup(zone: string): Promise<IntensityReading> {
    const average = this.options.fixedIntensity !== undefined ? undefined : knownZone(zone);
    const settled = this.settledReading(zone, average);
    if (settled) return this.remember(zone, settled, Number.POSITIVE_INFINITY);
    const client = this.options.client;
    if (!client || !average) throw new Error('unreachable: no upstream and no settled reading');
    const waitMs = this.budgetWait(zone, this.latest);
    if (waitMs > 0) return this.limitedReading(zone, average, waitMs);
    const result = await this.latest.get(zone, () =>
      this.logged(zone, 'latest', client.latest(zone)),
    );
    if (result.ok) {
      const now = this.options.now();
      const validUntil = result.loadedAt + this.options.cacheTtlMs;
      const liveUntil = this.liveUntil(result);
      if (now > liveUntil) {
        // Delayed upstream: a good answer for an hour the limit says no value may price.
        return this.agedOutReading(
          zone,
          average,
          { datetime: result.value.datetime, ageFromMs: ageFrom(result) },
          now,
          validUntil,
          delayed(zone),
          'latest',
        );
      }
      const reading = upstreamReading(result, false, now);
      // One line ends the outage, the switch back from the average included.
      this.agedOut.delete(zone);
      this.outages.recovered(zone, this.clock(), {
        carbonIntensity: reading.carbonIntensity,
        datetime: reading.datetime,
      });
      return this.remember(zone, reading, validUntil, {
        ageFromMs: ageFrom(result),
        staleUntil: liveUntil,
      });
    }
    // Every failure, an upstream 404 included, falls back: a zone on the bundled list has an
    // average, and a zone that answered before keeps its last good value.
    return this.fallback(zone, average, result.error, result.last, result.retryAt);
  }

  /**
   * Takes a lookup of another zone than the configured one from the budget when `cache` would
   * start one: 0 when it may, else how many ms until one may. Called right before `cache.get`,
   * with nothing awaited between, so the check is the load's.
   */
  private budgetWait(zone: string, cache: Pick<CoalescingCache<unknown>, 'needsRefresh'>): number {
    if (zone === this.defaultZone || !cache.needsRefresh(zone)) return 0;
    const waitMs = this.budget.take();
    this.sayBudgetSpent(zone, waitMs);
    return waitMs;
  }

  /**
   * Says once per run of refused lookups that the budget is spent: its answers are 200s with a
   * note (they were 429s, which the request log and the HTTP metrics showed), so without this
   * line nothing told an operator to raise GRID_OTHER_ZONE_LOOKUPS_PER_HOUR.
   */
  private sayBudgetSpent(zone: string, waitMs: number): void {
    if (waitMs === 0) {
      this.budgetSpentSaid = false;
      return;
    }
    if (this.budgetSpentSaid) return;
    this.budgetSpentSaid = true;
    this.options.logger.info(
      {
        zone,
        otherZoneLookupsPerHour: this.budget.perHour,
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      },
      `grid: ${lookupsLimitedText(zone, this.defaultZone, this.budget.perHour, waitMs)}; other zones answer their last good value or average meanwhile`,
    );
  }

  /**
   * A zone past the budget, answered as a failed lookup is but without a call or an outage (the
   * upstream is fine): its last good value within the age limit, else the average. Remembered
   * for no time, so the next lookup asks the budget again.
   */
  private limitedReading(zone: string, average: AnnualAverage, waitMs: number): IntensityReading {
    const now = this.options.now();
    const why = lookupsLimitedText(zone, this.defaultZone, this.budget.perHour, waitMs);
    const last = this.latest.peek(zone);
    const staleUntil = last === undefined ? 0 : this.ageLimit(last, this.maxStaleMs);
    if (last === undefined || now > staleUntil) {
      const reading = this.averageReading(zone, average, `${why}; using ${average.basis}`);
      return this.remember(zone, reading, this.clock());
    }
    const reading = upstreamReading(last, true, now);
    reading.note = `${why}; serving the last good value until ${new Date(staleUntil).toISOString()}`;
    return this.remember(zone, reading, this.clock(), { ageFromMs: ageFrom(last), staleUntil });
  }

  /** A zone's history past the budget: the last good one within 24 h, else none, saying why. */
  private limitedHistory(zone: string, average: AnnualAverage, waitMs: number): IntensityHistory {
    const now = this.options.now();
    const why = lookupsLimitedText(zone, this.defaultZone, this.budget.perHour, waitMs);
    const last = this.histories.peek(zone);
    if (last === undefined || now - last.fetchedAt > STALE_HISTORY_MAX_MS) {
      return noHistory(zone, average.source, `${why}; ${average.basis} has no history`);
    }
    const out = historyOf(zone, last.value, last.fetchedAt, true, now);
    out.note = `${why}; serving the last good history`;
    return out;
  }

  private holdFor(error: unknown): number {
    if (error instanceof UpstreamError) {
      // A refused key, or a zone the upstream does not know: asking again within a TTL would
      // get the same answer (a negative cache).
      if (
        error.kind === 'unauthorized' ||
        error.kind === 'not-entitled' ||
        error.kind === 'unknown-zone'
      ) {
        return Math.max(this.errorHoldMs, this.options.cacheTtlMs);
      }
      if (error.retryAfterMs !== undefined) {
        return Math.max(this.errorHoldMs, Math.min(error.retryAfterMs, MAX_RATE_LIMIT_HOLD_MS));
      }
      // A limit that names no wait (a 429 without Retry-After, a 401 saying the limit) is the
      // key's hourly quota: asked again every 30 s it saw ten times the calls a TTL makes.
      if (error.kind === 'rate-limited') return Math.max(this.errorHoldMs, MAX_RATE_LIMIT_HOLD_MS);
    }
    return this.errorHoldMs;
  }

  private fallback(
    zone: string,
    average: AnnualAverage,
    error: unknown,
    last: Cached<UpstreamPoint> | undefined,
    retryAt: number,
  ): IntensityReading {
    const now = this.options.now();
    const summary = summaryOf(error);
    const failure = lookupFailure(error);
    if (last === undefined) {
      const standIn = `using ${average.basis}`;
      this.outages.failed(zone, failure, standIn, this.clock());
      const reading = this.averageReading(zone, average, `${summary}; ${standIn}`);
      return this.remember(zone, reading, retryAt);
    }
    const staleUntil = this.ageLimit(last, this.maxStaleMs);
    if (now > staleUntil) {
      const old = { datetime: last.value.datetime, ageFromMs: ageFrom(last) };
      return this.agedOutReading(zone, average, old, now, retryAt, failure);
    }
    const until = new Date(staleUntil).toISOString();
    this.outages.failed(
      zone,
      failure,
      `serving the last good value, for ${last.value.datetime}, until ${until}`,
      this.clock(),
    );
    const reading = upstreamReading(last, true, now);
    reading.note = `${summary}; serving the last good value until ${until}`;
    // Held only as long as the error hold-down, then the upstream is asked again.
    return this.remember(zone, reading, retryAt, {
      ageFromMs: ageFrom(last),
      staleUntil,
    });
  }

  /** When a value stops being served: when its age (see ageFrom) passes `limitMs`. */
  private ageLimit(value: Cached<UpstreamPoint>, limitMs: number): number {
    return ageFrom(value) + limitMs;
  }

  /**
   * When a good answer stops pricing: the same limit as a last good value's, so no value for an
   * hour long gone prices because the upstream is late rather than down, but never within the
   * value's own hour.
   */
  private liveUntil(value: Cached<UpstreamPoint>): number {
    return this.ageLimit(value, Math.max(this.maxStaleMs, VALUE_HOUR_MS));
  }

  /**
   * Until when the cache keeps a good answer: a value live when it came, until its limit (a
   * healthy upstream has a newer one by then, so only its answer can say it is late); one
   * already past it, its TTL (asking sooner would get the same delayed value again). So a value
   * costs at most one call besides the TTL's.
   */
  private askAgainAfter(value: Cached<UpstreamPoint>): number {
    const until = this.liveUntil(value);
    return until >= value.fetchedAt ? until : Number.POSITIVE_INFINITY;
  }

  /**
   * The average in place of an Electricity Maps value past its age limit, held until the
   * upstream is asked again (`retryAt`, monotonic ms). The switch is said once per outage, as a
   * warning: in the outage's own line when one is due (its first, a reminder), else alone; later
   * reminders say only that the average is used. `failure` is absent when a stale value ages out within its
   * hold-down (its outage is told already); a live value (`latest`) past the limit is itself the
   * failure. The switch's line gives the old value's age.
   */
  private agedOutReading(
    zone: string,
    average: AnnualAverage,
    old: { datetime: string | null; ageFromMs: number },
    now: number,
    retryAt: number,
    failure?: LookupFailure,
    which: 'last good' | 'latest' = 'last good',
  ): IntensityReading {
    const note = this.agedOutText(which, old.datetime, average);
    const reading = this.averageReading(zone, average, note);
    const switched = !this.agedOut.has(zone);
    if (switched) this.agedOut.add(zone);
    const standIn = switched ? note : `using ${average.basis}`;
    const age = { ageSeconds: ageSeconds(old.ageFromMs, now) };
    const told =
      failure !== undefined &&
      this.outages.failed(
        zone,
        switched ? withFields(failure, age) : failure,
        standIn,
        this.clock(),
      );
    if (switched && !told) {
      this.options.logger.warn(
        {
          zone,
          datetime: old.datetime,
          ...age,
          carbonIntensity: reading.carbonIntensity,
          source: reading.source,
          staleMaxAgeSeconds: this.maxStaleMs / 1000,
        },
        `grid: zone ${zone}: ${note}, until Electricity Maps answers again`,
      );
    }
    return this.remember(zone, reading, retryAt);
  }

  /**
   * The reading when no upstream will be asked: the fixed value, or the average when there is
   * no key. Valid for good; undefined when Electricity Maps is the source.
   */
  private settledReading(
    zone: string,
    average: AnnualAverage | undefined,
  ): IntensityReading | undefined {
    if (this.options.fixedIntensity !== undefined) return this.fixedReading(zone);
    if (!average) return undefined;
    if (!this.options.client) {
      return this.averageReading(zone, average, `no Electricity Maps key: ${average.basis}`);
    }
    if (zoneKind(zone) !== 'electricity-maps') {
      return this.averageReading(
        zone,
        average,
        `Electricity Maps has no zone ${zone}: ${average.basis}`,
      );
    }
    return undefined;
  }

  private fixedReading(zone: string): IntensityReading {
    return {
      zone,
      carbonIntensity: this.options.fixedIntensity ?? 0,
      unit: UNIT,
      source: 'fixed',
      isEstimated: false,
      stale: false,
      ageSeconds: 0,
      datetime: null,
      fetchedAt: new Date(this.options.now()).toISOString(),
      note: 'fixed by the CARBON_INTENSITY setting',
    };
  }

  private averageReading(zone: string, average: AnnualAverage, note: string): IntensityReading {
    return {
      zone,
      carbonIntensity: average.carbonIntensity,
      unit: UNIT,
      source: average.source,
      isEstimated: true,
      stale: false,
      ageSeconds: 0,
      datetime: null,
      fetchedAt: new Date(this.options.now()).toISOString(),
      note,
    };
  }

  private waitingNote(): string {
    return 'Electricity Maps has not answered yet: using the annual average meanwhile';
  }

  /**
   * Stores the answer for peek() and for cheap repeat calls of current(), valid until
   * `validUntil` (monotonic ms); an Electricity Maps value says where its age counts from and its
   * age limit.
   */
  private remember(
    zone: string,
    reading: IntensityReading,
    validUntil: number,
    upstream?: { ageFromMs: number; staleUntil: number },
  ): IntensityReading {
    if (!this.memos.has(zone) && this.memos.size >= this.maxZones) {
      // Evict the oldest zone, never the default one the meter reads.
      for (const key of this.memos.keys()) {
        if (key !== this.defaultZone) {
          this.memos.delete(key);
          break;
        }
      }
    }
    this.memos.set(zone, {
      reading,
      ageFromMs: upstream?.ageFromMs ?? this.options.now(),
      validUntil,
      staleUntil: upstream?.staleUntil ?? Number.POSITIVE_INFINITY,
    });
    return reading;
  }

  /**
   * The memo's reading, unless it is an Electricity Maps value that went past its age limit
   * since it was remembered (a hold-down, or a TTL, can outlast it): then the average, until the
   * upstream is asked again; a live one while it is being asked again, though, stays until the
   * answer says whether the upstream is late. Says nothing: metric callbacks read through here.
   */
  private served(zone: string, memo: Memo, now: number): IntensityReading {
    if (now <= memo.staleUntil) return this.aged(memo, now);
    if (isLive(memo) && this.latest.loading(zone)) return this.aged(memo, now);
    const average = annualAverage(zone);
    if (average === undefined) return this.aged(memo, now);
    memo.standIn ??= this.averageReading(zone, average, this.agedOutNote(memo.reading, average));
    return memo.standIn;
  }

  /**
   * A lookup's answer for a memo whose stale value went past its age limit within its hold-down:
   * the average, said once, until the upstream is asked again (its outage is already told). A
   * live value past its limit never gets here: the upstream is asked again (asksAgain).
   */
  private switched(zone: string, memo: Memo, now: number): IntensityReading {
    const average = annualAverage(zone);
    if (average === undefined) return this.aged(memo, now);
    const old = { datetime: memo.reading.datetime, ageFromMs: memo.ageFromMs };
    return this.agedOutReading(zone, average, old, now, memo.validUntil);
  }

  /** Why the average answers for a value past its age limit (`reading`: that value). */
  private agedOutNote(reading: IntensityReading, average: AnnualAverage): string {
    const which = reading.stale ? 'last good' : 'latest';
    return this.agedOutText(which, reading.datetime, average);
  }

  private agedOutText(
    which: 'last good' | 'latest',
    datetime: string | null,
    average: AnnualAverage,
  ): string {
    const limit = `GRID_STALE_MAX_AGE_SECONDS (${spanText(this.maxStaleMs)})`;
    return `the ${which} Electricity Maps value, for ${datetime}, is older than ${limit}: using ${average.basis}`;
  }

  /** The memo's reading with its age brought up to date: a new object at most once a second. */
  private aged(memo: Memo, now: number): IntensityReading {
    if (memo.reading.source !== 'electricity-maps') return memo.reading;
    const age = ageSeconds(memo.ageFromMs, now);
    if (age !== memo.reading.ageSeconds) memo.reading = { ...memo.reading, ageSeconds: age };
    return memo.reading;
  }

  /**
   * Each failed upstream call, once per attempt, at debug: an outage is told at warning level
   * by `outages`, once per run and then at most every 10 min, not every 30 s hold-down.
   */
  private async logged<T>(zone: string, endpoint: string, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      const failure = lookupFailure(err);
      this.options.logger.debug({ zone, endpoint, ...failure.fields }, `grid: ${failure.reason}`);
      throw err;
    }
  }
}

/**
 * A live Electricity Maps value past its limit within its TTL: only a new answer can say whether
 * the upstream is late, so the next lookup asks for one (the cache reloads it: askAgainAfter).
 */
function asksAgain(memo: Memo, now: number): boolean {
  return now > memo.staleUntil && isLive(memo);
}

/**
 * The memo's answer can change with time: an Electricity Maps value ages (aged) and has an age
 * limit (staleUntil); every other source is the same answer until the memo expires.
 */
function hasAge(memo: Memo): boolean {
  return memo.reading.source === 'electricity-maps' || memo.staleUntil !== Number.POSITIVE_INFINITY;
}

/** The memo holds a good Electricity Maps answer, not a last good value or an average. */
function isLive(memo: Memo): boolean {
  return memo.reading.source === 'electricity-maps' && !memo.reading.stale;
}

function isWellFormed(zone: string): boolean {
  return zone.length <= MAX_ZONE_LENGTH && ZONE_PATTERN.test(zone);
}

function checkZone(zone: string): void {
  if (!isWellFormed(zone)) throw new InvalidZoneError(zone);
}

/** The zone's average; a zone neither Electricity Maps' list nor the country codes know is unknown. */
function knownZone(zone: string): AnnualAverage {
  const average = annualAverage(zone);
  if (average === undefined) throw new UnknownZoneError(zone);
  return average;
}

/** A good answer too old to price with, as an outage's reason: the upstream is late, not down. */
function delayed(zone: string): LookupFailure {
  return {
    reason: `Electricity Maps answers with a delayed value (zone ${zone})`,
    level: 'warn',
    fields: { kind: 'delayed' },
  };
}

function withFields(failure: LookupFailure, fields: Record<string, unknown>): LookupFailure {
  return { ...failure, fields: { ...failure.fields, ...fields } };
}

function summaryOf(error: unknown): string {
  return error instanceof UpstreamError ? error.summary : 'Electricity Maps lookup failed';
}

/**
 * Where a value's age counts from: its `datetime`, the time the data is about (the start of
 * its hour), since that is what a user of the figure means by its age and what the age limit
 * is about; its fetch where that is earlier (a clock ahead of ours, a slot not begun yet: data
 * is never younger than when it came) or the datetime unreadable.
 */
function ageFrom(value: Cached<UpstreamPoint>): number {
  const datetime = Date.parse(value.value.datetime);
  return Number.isFinite(datetime) ? Math.min(datetime, value.fetchedAt) : value.fetchedAt;
}

function ageSeconds(fromMs: number, now: number): number {
  return Math.max(0, Math.floor((now - fromMs) / 1000));
}

function upstreamReading(
  value: Cached<UpstreamPoint>,
  stale: boolean,
  now: number,
): IntensityReading {
  const point = value.value;
  return {
    zone: point.zone,
    carbonIntensity: point.carbonIntensity,
    unit: UNIT,
    source: 'electricity-maps',
    isEstimated: point.isEstimated,
    stale,
    ageSeconds: ageSeconds(ageFrom(value), now),
    datetime: point.datetime,
    fetchedAt: new Date(value.fetchedAt).toISOString(),
  };
}

/**
 * The points of the last 24 h by `now`: an upstream's far-past datetime is not part of it, nor
 * are the older points of a last good history served stale hours after it was fetched.
 */
function historyOf(
  zone: string,
  points: UpstreamPoint[],
  fetchedAtMs: number,
  stale: boolean,
  now: number,
): IntensityHistory {
  const from = now - STALE_HISTORY_MAX_MS;
  return {
    zone,
    source: 'electricity-maps',
    unit: UNIT,
    history: points
      .filter((p) => Date.parse(p.datetime) >= from)
      .map((p) => ({
        datetime: p.datetime,
        carbonIntensity: p.carbonIntensity,
        isEstimated: p.isEstimated,
      })),
    stale,
    fetchedAt: new Date(fetchedAtMs).toISOString(),
  };
}

function noHistory(
  zone: string,
  source: IntensityHistory['source'],
  note: string,
): IntensityHistory {
  return { zone, source, unit: UNIT, history: [], note };
}
