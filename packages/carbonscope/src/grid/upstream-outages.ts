import { FailureRun, REASON_REPEAT_MS } from '../failure-run.js';
import type { Logger } from '../log.js';
import { UpstreamError } from './errors.js';

/** While a zone fails, the same reason is told again this often (the OTLP pushes' period). */
export const OUTAGE_REMIND_MS = REASON_REPEAT_MS;

/** Why a zone has no live value, as its log lines say it. */
export interface LookupFailure {
  /** One line, already free of the key (built from the zone, the status, a redacted detail). */
  reason: string;
  level: 'warn' | 'error';
  fields: Record<string, unknown>;
}

/** A failed call as a LookupFailure: a refused key is an error, the rest warnings. */
export function lookupFailure(error: unknown): LookupFailure {
  if (!(error instanceof UpstreamError)) {
    return { reason: 'Electricity Maps lookup failed', level: 'error', fields: { err: error } };
  }
  const refused = error.kind === 'unauthorized' || error.kind === 'not-entitled';
  return {
    reason: error.message,
    level: refused ? 'error' : 'warn',
    fields: {
      kind: error.kind,
      upstreamStatus: error.upstreamStatus,
      detail: error.detail,
      retryAfterMs: error.retryAfterMs,
    },
  };
}

/**
 * The log of one endpoint's outages, zone by zone: a line when a zone starts failing, the
 * reason again at most every OUTAGE_REMIND_MS while it lasts (FailureRun's policy, the one the
 * OTLP pushes follow), and one info line, with its length, when a good answer ends it. A zone is
 * kept only while it fails, and only known zones are ever asked, so the map is bounded by them.
 */
export class UpstreamOutages {
  private readonly runs = new Map<string, FailureRun>();

  constructor(
    private readonly logger: Logger,
    private readonly endpoint: 'latest' | 'history',
  ) {}

  /**
   * A failed lookup at `now`, and what answers instead (`standIn`): written when the policy
   * says so. Returns whether it was.
   */
  failed(zone: string, failure: LookupFailure, standIn: string, now: number): boolean {
    let run = this.runs.get(zone);
    if (run === undefined) {
      run = new FailureRun({ remindMs: OUTAGE_REMIND_MS });
      this.runs.set(zone, run);
    }
    const news = run.failed(failure.reason, now);
    if (news === undefined) return false;
    const lasted = run.lastedAt(now);
    const still = news === 'started' ? '' : `still failing after ${elapsedText(lasted)}: `;
    this.logger[failure.level](
      {
        zone,
        endpoint: this.endpoint,
        failingForSeconds: Math.floor(lasted / 1000),
        ...failure.fields,
      },
      `${this.prefix(zone)}${still}${failure.reason}; ${standIn}`,
    );
    return true;
  }

  /** A good answer at `now`: ends the zone's outage, if it had one, in one info line. */
  recovered(zone: string, now: number, fields: object = {}): void {
    const run = this.runs.get(zone);
    if (run === undefined) return;
    this.runs.delete(zone);
    const lasted = run.succeeded(now) ?? 0;
    const then = this.endpoint === 'latest' ? '; its live values are used again' : '';
    this.logger.info(
      { zone, endpoint: this.endpoint, failedForSeconds: Math.floor(lasted / 1000), ...fields },
      `${this.prefix(zone)}Electricity Maps answers again after ${elapsedText(lasted)}${then}`,
    );
  }

  private prefix(zone: string): string {
    return this.endpoint === 'history' ? `grid: zone ${zone} history: ` : `grid: zone ${zone}: `;
  }
}

/** How long something lasted, as a person says it: 45 s, 25 min, 1 h 5 min. */
export function elapsedText(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const rest = min % 60;
  return rest === 0 ? `${Math.floor(min / 60)} h` : `${Math.floor(min / 60)} h ${rest} min`;
}
