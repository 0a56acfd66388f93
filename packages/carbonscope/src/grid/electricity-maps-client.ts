import { z } from 'zod';
import { joinedUrl, lacksVersionSegment } from '../base-url.js';
import { deadlineSignal } from '../deadline.js';
import { BodyTooLargeError, readText, untilAborted } from '../fetch-body/index.js';
import { MAX_CARBON_INTENSITY } from '../intensity-bound.js';
import { redactedExcerpt, redactionList } from '../log.js';
import { delay } from '../real-timers.js';
import { parseRetryAfter } from '../retry-after.js';
import { maskableSecret } from '../secret-length.js';
import { messageOf } from '../thrown-text.js';
import { urlSecrets } from '../url-credentials.js';
import { zoneKeyCase } from '../zones.js';
import { type HeldZone, UpstreamError, type UpstreamErrorKind } from './errors.js';
import type { HostShare } from './host-share/index.js';
import type { UpstreamPoint } from './types.js';

export type { UpstreamPoint } from './types.js';

export interface ElectricityMapsClient {
  /** `GET /carbon-intensity/latest?zone=&emissionFactorType=lifecycle` */
  latest(zone: string): Promise<UpstreamPoint>;
  /**
   * `GET /carbon-intensity/history?zone=&emissionFactorType=lifecycle` (the last 24 h); points
   * without a value are dropped.
   */
  history(zone: string): Promise<UpstreamPoint[]>;
}

export interface RetryPolicy {
  /**
   * Extra attempts after the first, for network errors and 5xx while the call's timeout leaves
   * time, and for short 429s.
   */
  retries: number;
  /** Backoff before retry n is between half and all of min(maxDelayMs, baseDelayMs * 2^n). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After the client waits for; a longer one fails the call at once. */
  maxRetryAfterMs: number;
}

/**
 * The longest a rate limit holds the key back, whatever Retry-After says (5 min), and the hold of
 * a limit that names no wait.
 */
export const MAX_RATE_LIMIT_HOLD_MS = 300_000;

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 2,
  baseDelayMs: 250,
  maxDelayMs: 2000,
  maxRetryAfterMs: 5000,
};

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface ElectricityMapsClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  retry?: Partial<RetryPolicy>;
  fetch?: FetchLike;
  /** Waits between attempts; tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Epoch ms: an HTTP-date Retry-After, how far ahead a datetime is, when a hold ends (shown). */
  now?: () => number;
  /**
   * Monotonic ms, for the call's timeout and how long a rate limit holds the key (performance.now
   * by default): held until a wall-clock instant, it was held an hour more by a clock set back.
   */
  clock?: () => number;
  /** Where the one line per zone goes that says a history's unreadable points were dropped. */
  warn?: (line: string) => void;
  /**
   * The rate limit's hold of the host's other processes on this key: one held there is not
   * asked here either, and one met here holds them.
   */
  share?: Pick<HostShare, 'held' | 'hold'>;
}

/**
 * How far ahead of this clock a value's `datetime` may be: the upstream's clock (or ours) a little
 * off, a value for an hour just begun. Further ahead (a year 2999) it is no reading: taken, it
 * was served as live with age 0, and no age limit would ever reach it.
 */
const MAX_DATETIME_AHEAD_MS = 2 * 3600_000;

/** The emission factors asked for: those of the annual averages the fallback serves. */
const FACTORS = 'lifecycle';

/**
 * Why a 404 is more likely the base URL's than the zone's where its path names no API version:
 * Electricity Maps serves its API under /v3, and its host or a proxy's root without it answered
 * 404 for every zone, each said to be unknown. A proxy may map any path, so a versioned one
 * keeps the zone's reading. Names the setting, never its value (a URL may hold credentials).
 */
const UNVERSIONED_BASE_URL =
  'Electricity Maps answered 404 at a base URL with no API version in its path: ' +
  'ELECTRICITY_MAPS_BASE_URL (settings.grid.baseUrl) likely lacks /v3, as in ' +
  'https://api.electricitymaps.com/v3';

/** Bodies this large are not what the documented endpoints return. */
const MAX_BODY_BYTES = 1_000_000;

// A token that is valid but whose plan does not cover the zone or endpoint: not a bad key. Users
// quote `Request unauthorized for zoneKey=FR,requestType=...` (a 401) for it, others `Token ...`.
const NOT_ENTITLED = /unauthorized for zoneKey|Endpoint not available/i;
// Users report rate limiting answered as 401; the body is the only way to tell.
const RATE_LIMITED = /rate.?limit|too many requests|quota/i;

/** ISO 8601 with its offset, as the API writes it (`…Z`): a bare local time is no instant. */
const DATETIME = z.iso.datetime({ offset: true });

const point = z.object({
  zone: z.string().optional(),
  carbonIntensity: z.number().min(0).max(MAX_CARBON_INTENSITY).nullable(),
  datetime: DATETIME,
  isEstimated: z.boolean().nullable().optional(),
  estimationMethod: z.string().nullable().optional(),
  emissionFactorType: z.string().nullable().optional(),
});
// A history point's datetime is read on its own: one without an offset is dropped, not the 24 h.
const historyBody = z.object({
  zone: z.string().optional(),
  history: z.array(point.extend({ datetime: z.string() })),
});

type Point = z.infer<typeof point>;

export function createElectricityMapsClient(
  options: ElectricityMapsClientOptions,
): ElectricityMapsClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const clock = options.clock ?? (() => performance.now());
  const warn = options.warn ?? (() => undefined);
  // Once a zone: the upstream keeps a bad point for its 24 h, each fetch meeting it again. The
  // zones asked are Electricity Maps' own (a few hundred), so the set stays bounded.
  const warnedZones = new Set<string>();
  // fetch names the URL, user and password included, in the error for a URL that has them; a
  // JSON body echoes the key escaped (redactionList). A key of a letter or two is not masked
  // (maskableSecret).
  const key = maskableSecret(options.apiKey) ? [options.apiKey] : [];
  const secrets = redactionList([...key, ...urlSecrets(options.baseUrl)]);
  const notFoundHint = lacksVersionSegment(options.baseUrl) ? UNVERSIONED_BASE_URL : undefined;
  // After a rate limit not waited for, every call fails fast until its Retry-After (or, with
  // none, the cap) has passed instead of spending the (small) quota on answers we already know.
  // For every zone: the quota is the key's, and held zone by zone each other zone and endpoint
  // spent a call to hear the same 429. Capped, so one answer (Retry-After: 3600, or a date in
  // 2099) cannot switch live data off for longer than MAX_RATE_LIMIT_HOLD_MS.
  // `end`: the hold's end on the monotonic clock; `held.until` the same instant as shown.
  let hold: { end: number; held: HeldZone } | undefined;
  const block = async (zone: string, ms: number | undefined, status: number) => {
    const wait = ms ?? MAX_RATE_LIMIT_HOLD_MS;
    const end = clock() + wait;
    // A call in flight when the hold began may answer a shorter wait: the longer one stands.
    if (hold !== undefined && hold.end >= end) return;
    hold = { end, held: { until: now() + wait, status, zone } };
    // Written before the call fails: the process waiting on this one's lookup reads it next.
    await options.share?.hold(hold.held).catch(() => undefined);
  };
  /** A hold another process met: this one is held as long. */
  const adopt = (held: HeldZone): number => {
    const left = held.until - now();
    const end = clock() + left;
    if (hold === undefined || hold.end < end) hold = { end, held };
    return left;
  };

  const backoff = (attempt: number): number => {
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
    return cap / 2 + (random() * cap) / 2;
  };

  async function getJson(path: string, zone: string): Promise<unknown> {
    if (hold !== undefined) {
      const left = hold.end - clock();
      if (left > 0) {
        throw new UpstreamError('rate-limited', zone, undefined, undefined, left, hold.held);
      }
      hold = undefined;
    }
    const theirs = await options.share?.held();
    if (theirs !== undefined) {
      const left = adopt(theirs);
      throw new UpstreamError('rate-limited', zone, undefined, undefined, left, theirs);
    }
    const query = `zone=${encodeURIComponent(zone)}&emissionFactorType=${FACTORS}`;
    const url = joinedUrl(options.baseUrl, path, query);
    // The attempts share one timeout (a Retry-After waited for extends it): each had its own, so
    // an upstream failing slowly kept the caller three timeouts, a hung one only one.
    let deadline = clock() + options.timeoutMs;
    const retryAfterBackoff = async (attempt: number): Promise<boolean> => {
      const ms = backoff(attempt);
      if (clock() + ms >= deadline) return false;
      await sleep(ms);
      return true;
    };
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < policy.retries;
      let status: number;
      let text: string;
      let retryAfterMs: number | undefined;
      const { signal, clear } = deadlineSignal(Math.max(1, Math.ceil(deadline - clock())));
      try {
        const res = await untilAborted(
          fetchImpl(url, {
            headers: { 'auth-token': options.apiKey, accept: 'application/json' },
            // A redirect is answered, never followed: fetch would send the auth-token header to
            // wherever the Location points, another host included.
            redirect: 'manual',
            signal,
          }),
          signal,
        );
        status = res.status;
        const { headers } = res;
        const asked = parseRetryAfter(headers.get('retry-after'), now(), headers.get('date'));
        retryAfterMs = asked === undefined ? undefined : Math.min(asked, MAX_RATE_LIMIT_HOLD_MS);
        text = await readBody(res, zone, signal);
      } catch (err) {
        const kind = failureKind(err);
        if (kind === 'own') throw err;
        // A timed-out upstream is not retried: a retry would only double the caller's wait,
        // and the fallback chain has an answer now.
        if (kind === 'timeout') throw new UpstreamError('timeout', zone);
        if (canRetry && (await retryAfterBackoff(attempt))) continue;
        throw new UpstreamError(
          'network',
          zone,
          undefined,
          redactedExcerpt(causeOf(err), secrets, 100),
        );
      } finally {
        clear();
      }
      if (status >= 200 && status < 300) return parseJson(text, zone, status);
      if (status >= 300 && status < 400) {
        throw new UpstreamError('rejected', zone, status, 'answered with a redirect, not followed');
      }
      const detail = redactedExcerpt(text, secrets, 200);
      if (status === 401 || status === 403) {
        const kind = classifyAuth(text);
        if (kind !== 'rate-limited') throw new UpstreamError(kind, zone, status, detail);
        // Not retried as a 429 is: the status says the key, and only the body the limit.
        await block(zone, retryAfterMs, status);
        throw new UpstreamError(kind, zone, status, detail, retryAfterMs);
      }
      if (status === 404) {
        throw new UpstreamError(
          'unknown-zone',
          zone,
          status,
          detail,
          undefined,
          undefined,
          notFoundHint,
        );
      }
      if (status === 429) {
        const wait = retryAfterMs ?? backoff(attempt);
        if (canRetry && wait <= policy.maxRetryAfterMs) {
          deadline += wait;
          await sleep(wait);
          continue;
        }
        await block(zone, retryAfterMs, status);
        throw new UpstreamError('rate-limited', zone, status, detail, retryAfterMs);
      }
      if (status >= 500) {
        if (canRetry && (await retryAfterBackoff(attempt))) continue;
        throw new UpstreamError('server', zone, status, detail);
      }
      throw new UpstreamError('rejected', zone, status, detail);
    }
  }

  /**
   * The points whose datetime is an instant: one without an offset (local? UTC?) is dropped, with
   * a line once a zone, where it made the whole 24 h malformed; none readable is malformed still.
   */
  function withInstants<P extends { datetime: string }>(zone: string, all: P[]): P[] {
    const readable: P[] = [];
    let dropped: P | undefined;
    for (const p of all) {
      if (DATETIME.safeParse(p.datetime).success) readable.push(p);
      else dropped ??= p;
    }
    if (!dropped) return readable;
    const shown = JSON.stringify(redactedExcerpt(dropped.datetime, secrets, 40));
    const what = `datetime without a UTC offset (${shown})`;
    if (readable.length === 0) throw new UpstreamError('malformed', zone, 200, `every ${what}`);
    if (!warnedZones.has(zone)) {
      warnedZones.add(zone);
      const count = all.length - readable.length;
      warn(
        `grid: Electricity Maps history for ${zone}: dropped ${count} of ${all.length} points, a ${what}`,
      );
    }
    return readable;
  }

  return {
    async latest(zone) {
      const body = point.safeParse(await getJson('/carbon-intensity/latest', zone));
      if (!body.success) throw malformed(zone, body.error);
      checkZone(zone, body.data.zone, secrets);
      checkFactors(zone, body.data.emissionFactorType, secrets);
      checkNotAhead(zone, body.data.datetime, now());
      const value = toPoint(body.data, zone);
      if (!value) throw new UpstreamError('no-data', zone, 200);
      return value;
    },
    async history(zone) {
      const body = historyBody.safeParse(await getJson('/carbon-intensity/history', zone));
      if (!body.success) throw malformed(zone, body.error);
      checkZone(zone, body.data.zone, secrets);
      const all = body.data.history;
      for (const p of all) {
        checkZone(zone, p.zone, secrets);
        checkFactors(zone, p.emissionFactorType, secrets);
      }
      const readable = withInstants(zone, all);
      const at = now();
      for (const p of readable) checkNotAhead(zone, p.datetime, at);
      return readable
        .map((p) => toPoint(p, zone))
        .filter((p): p is UpstreamPoint => p !== undefined);
    },
  };
}

function toPoint(p: Point, zone: string): UpstreamPoint | undefined {
  if (p.carbonIntensity === null) return undefined;
  return {
    zone,
    carbonIntensity: p.carbonIntensity,
    datetime: new Date(p.datetime).toISOString(),
    isEstimated: isEstimated(p),
    estimationMethod: p.estimationMethod ?? null,
  };
}

/**
 * Measured only when the upstream says so and names no estimation method: a value without the
 * flag (null, absent) or with a method was labelled measured, though nothing said it was.
 */
function isEstimated(p: Point): boolean {
  return p.isEstimated !== false || (p.estimationMethod ?? null) !== null;
}

function classifyAuth(body: string): UpstreamErrorKind {
  if (NOT_ENTITLED.test(body)) return 'not-entitled';
  if (RATE_LIMITED.test(body)) return 'rate-limited';
  return 'unauthorized';
}

/**
 * The body as text, read chunk by chunk and refused as soon as it passes MAX_BODY_BYTES:
 * `res.text()` held the whole of it first, 200 MB as readily as 1 KB (or a gzip body fetch
 * inflates that far), enough to have the service killed for its memory.
 */
async function readBody(res: Response, zone: string, signal: AbortSignal): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_BODY_BYTES) {
    res.body?.cancel().catch(() => undefined);
    return tooLarge(res, zone, `body of ${declared} bytes`);
  }
  try {
    return await readText(res.body, { maxBytes: MAX_BODY_BYTES, signal });
  } catch (err) {
    if (err instanceof BodyTooLargeError) return tooLarge(res, zone, err.message);
    throw err;
  }
}

/**
 * An answer's body over the limit: an unexpected body, or for an error status (a proxy's error
 * page) only the error's detail, so that the status still says what failed and what is retried.
 */
function tooLarge(res: Response, zone: string, what: string): string {
  if (res.ok) throw new UpstreamError('malformed', zone, res.status, what);
  return what;
}

function parseJson(text: string, zone: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError('malformed', zone, status, 'body is not JSON');
  }
}

/**
 * Refuses an answer that names a zone other than the one asked: a base URL or proxy pointing
 * elsewhere, or a cache keyed on the path alone, would otherwise have another zone's value
 * served and exported as this one's. Zone keys are upper case; the upstream's case is not
 * trusted to match. An answer that names no zone is taken, as before.
 */
function checkZone(asked: string, answered: string | undefined, secrets: readonly string[]): void {
  if (answered === undefined || zoneKeyCase(answered) === asked) return;
  const named = JSON.stringify(redactedExcerpt(answered, secrets, 40));
  throw new UpstreamError('malformed', asked, 200, `answered for zone ${named}`);
}

/**
 * Refuses values of other emission factors than the lifecycle ones asked for (a proxy that drops
 * the parameter, an account whose default differs): direct factors are far lower for nuclear and
 * renewables, and would be served beside the lifecycle averages of the fallback as the same unit.
 * An answer that names none is taken: lifecycle is the API's default.
 */
function checkFactors(
  zone: string,
  answered: string | null | undefined,
  secrets: readonly string[],
): void {
  if (answered === undefined || answered === null || answered === FACTORS) return;
  const named = JSON.stringify(redactedExcerpt(answered, secrets, 40));
  throw new UpstreamError('malformed', zone, 200, `emission factors ${named}, not ${FACTORS}`);
}

function checkNotAhead(zone: string, datetime: string, now: number): void {
  const ahead = Date.parse(datetime) - now;
  if (!(ahead > MAX_DATETIME_AHEAD_MS)) return;
  const when = new Date(datetime).toISOString();
  throw new UpstreamError(
    'malformed',
    zone,
    200,
    `datetime ${when} is more than ${MAX_DATETIME_AHEAD_MS / 3600_000} h ahead of this clock`,
  );
}

function malformed(zone: string, error: z.ZodError): UpstreamError {
  const issue = error.issues[0];
  const where = issue?.path.join('.') || 'body';
  return new UpstreamError('malformed', zone, 200, `${where}: ${issue?.message ?? 'invalid'}`);
}

/**
 * What an attempt threw: the client's own error, a timeout, or another. The fetch may be the
 * application's: a value that throws when asked what it is (a Proxy's trap) is another.
 */
function failureKind(err: unknown): 'own' | 'timeout' | 'other' {
  try {
    if (err instanceof UpstreamError) return 'own';
    return err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'other';
  } catch {
    return 'other';
  }
}

/**
 * The error's code, or its whole message: it may hold secrets, so redact it before cutting.
 * messageOf's where its parts cannot be read (a message getter that throws, a Proxy's trap).
 */
function causeOf(err: unknown): string {
  try {
    const cause = err instanceof Error ? (err.cause ?? err) : err;
    const code = cause instanceof Error ? (cause as Error & { code?: unknown }).code : undefined;
    return typeof code === 'string' ? code : messageOf(cause);
  } catch {
    return messageOf(err);
  }
}
