/**
 * Errors of the grid area. Messages are written for the API user and never carry the
 * Electricity Maps key: they are built from the zone and the upstream status only, plus an
 * upstream message that has been redacted before it gets here.
 */
import { MAX_ZONE_LENGTH } from '../zones.js';

/** How much of a refused zone its message quotes, in characters (code points). */
const QUOTED_ZONE_CHARS = 40;

/**
 * The first `max` code points of `text`, and whether any were left out: cut in UTF-16 units, an
 * emoji across the cut left half a surrogate pair, which JSON writes as the text `\ud83d`.
 */
function firstCodePoints(text: string, max: number): { kept: string; cut: boolean } {
  let end = 0;
  for (let n = 0; n < max && end < text.length; n++) {
    end += (text.codePointAt(end) as number) > 0xffff ? 2 : 1;
  }
  return { kept: text.slice(0, end), cut: end < text.length };
}

/** The zone does not have the shape of a zone key; answered as 400. */
export class InvalidZoneError extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly code = 'invalid_zone';
  constructor(readonly zone: string) {
    const { kept, cut } = firstCodePoints(zone, QUOTED_ZONE_CHARS);
    super(
      `invalid zone ${JSON.stringify(kept)}${cut ? '…' : ''}: expected a zone key of at most ${MAX_ZONE_LENGTH} characters matching ^[A-Z]{2}(-[A-Z0-9]+)*$, such as DE, FR, SE-SE3 or US-CAL-CISO`,
    );
    this.name = 'InvalidZoneError';
  }
}

/** Neither Electricity Maps nor the bundled data know the zone; answered as 404. */
export class UnknownZoneError extends Error {
  readonly status = 404;
  readonly expose = true;
  readonly code = 'unknown_zone';
  constructor(readonly zone: string) {
    super(`unknown zone ${zone}: no grid data exists for this zone key`);
    this.name = 'UnknownZoneError';
  }
}

/**
 * Why a zone other than the configured one is not looked up now: past the budget of such lookups
 * (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR), and when one may start.
 */
export function lookupsLimitedText(
  zone: string,
  defaultZone: string,
  perHour: number,
  waitMs: number,
): string {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return `Electricity Maps lookups for zones other than the configured ${defaultZone} are limited to ${perHour} an hour (GRID_OTHER_ZONE_LOOKUPS_PER_HOUR): zone ${zone} can be looked up in ${seconds} s`;
}

/**
 * A zone other than the configured one would be looked up past the budget of such lookups.
 * @deprecated Nothing throws it any more: past the budget the service answers the zone's last
 * good value or its average, labelled (lookupsLimitedText). Kept so that code importing it
 * still compiles.
 */
export class LookupsLimitedError extends Error {
  readonly status = 429;
  readonly expose = true;
  readonly code = 'grid_lookups_limited';
  /** Whole seconds until a lookup may start, as a Retry-After header says it. */
  readonly retryAfterSeconds: number;
  constructor(
    readonly zone: string,
    defaultZone: string,
    perHour: number,
    waitMs: number,
  ) {
    super(lookupsLimitedText(zone, defaultZone, perHour, waitMs));
    this.name = 'LookupsLimitedError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  }
}

/**
 * Why a call to Electricity Maps failed.
 * - `unauthorized`: the key is missing, invalid or revoked (401/403 without an entitlement message)
 * - `not-entitled`: the key is valid but its plan does not cover this zone or endpoint
 * - `unknown-zone`: 404, the upstream does not know the zone
 * - `rate-limited`: 429 (or a 401 whose body says the limit was hit)
 * - `server`: 5xx after the retries
 * - `network`: connection refused, reset, DNS, after the retries
 * - `timeout`: no complete answer within the configured timeout
 * - `malformed`: the body is not the documented shape, or is an answer for another zone
 * - `no-data`: a well-formed answer without a value (carbonIntensity null)
 * - `rejected`: any other 4xx
 */
export type UpstreamErrorKind =
  | 'unauthorized'
  | 'not-entitled'
  | 'unknown-zone'
  | 'rate-limited'
  | 'server'
  | 'network'
  | 'timeout'
  | 'malformed'
  | 'no-data'
  | 'rejected';

const DESCRIPTIONS: Record<UpstreamErrorKind, string> = {
  unauthorized: 'Electricity Maps rejected the API key',
  'not-entitled': 'the Electricity Maps key is not entitled to this zone or endpoint',
  'unknown-zone': 'Electricity Maps does not know this zone',
  'rate-limited': 'Electricity Maps rate limit reached',
  server: 'Electricity Maps had a server error',
  network: 'Electricity Maps could not be reached',
  timeout: 'Electricity Maps did not answer in time',
  malformed: 'Electricity Maps answered with an unexpected body',
  'no-data': 'Electricity Maps has no value for this zone right now',
  rejected: 'Electricity Maps rejected the request',
};

/**
 * The key is not used until `until` (epoch ms), after a rate limit of `status` answered for
 * `zone`: the quota is the key's, so every zone waits.
 */
export interface HeldZone {
  until: number;
  status: number;
  zone: string;
}

/**
 * Electricity Maps (or another intensity service) did not give a value: `kind` says why, for
 * the logs and the fallback; never carries the API key.
 */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    readonly zone: string,
    /** The upstream HTTP status, when there was an answer. */
    readonly upstreamStatus?: number,
    /**
     * A short, already redacted, upstream message for the logs. For `malformed` it is this
     * client's own words (which field, which zone), so the message says it too.
     */
    readonly detail?: string,
    /** For `rate-limited`: how long the upstream asked us to wait. */
    readonly retryAfterMs?: number,
    /**
     * For `rate-limited` without a call: the zone is held after an earlier answer. Its message
     * said that answer's "HTTP 429" as if the upstream had just given it.
     */
    readonly held?: HeldZone,
    /**
     * What the answer more likely means than its kind says, in the client's words (a 404 at a
     * base URL with no API version: its path, not the zone): said in place of the kind's
     * description, in the message and the summary. Free of the key and the URL.
     */
    readonly hint?: string,
  ) {
    const what = kind === 'malformed' && detail ? `: ${detail}` : '';
    const call = callText(zone, upstreamStatus, held);
    super(`${hint ?? DESCRIPTIONS[kind]} (zone ${zone}${call})${what}`);
    this.name = 'UpstreamError';
  }

  /** One short phrase for API users, e.g. in a fallback note. */
  get summary(): string {
    return this.hint ?? DESCRIPTIONS[this.kind];
  }
}

/** What the message says of the call: its status, or that none was made and until when. */
function callText(zone: string, status: number | undefined, held: HeldZone | undefined): string {
  if (held !== undefined) {
    const until = new Date(held.until).toISOString();
    const after = held.zone === zone ? 'its' : 'an';
    const which = held.zone === zone ? '' : ` for zone ${held.zone}`;
    return `, not asked until ${until} after ${after} HTTP ${held.status}${which}`;
  }
  return status ? `, HTTP ${status}` : '';
}
