import { elapsedText } from '../elapsed-text.js';
import {
  type FailureNews,
  FailureRun,
  FLAP_WINDOW_MS,
  REASON_REPEAT_MS,
  spellText,
  tallyText,
} from '../failure-run.js';
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
      heldUntil: error.held === undefined ? undefined : new Date(error.held.until).toISOString(),
    },
  };
}

/**
 * The log of one endpoint's outages, zone by zone: a line when a zone starts failing, the
 * reason again at most every OUTAGE_REMIND_MS while it lasts, and one info line, with its
 * length, when a good answer ends it. A zone that fails again within FLAP_WINDOW_MS of a
 * recovery is flapping: one line at most per window with the counts, and its end once it held
 * for a window (FailureRun's policy, the one the OTLP pushes follow). A zone is kept while it
 * fails or flaps, and only known zones are ever asked, so the map is bounded by them.
 */
export class UpstreamOutages {
  private readonly runs = new Map<string, FailureRun>();

  constructor(
    private readonly logger: Logger,
    private readonly endpoint: 'latest' | 'history',
  ) {}

  /**
   * A failed lookup at `now` (monotonic ms: an outage's length and its reminders are durations),
   * and what answers instead (`standIn`): written when the policy says so. Returns whether it was.
   */
  failed(zone: string, failure: LookupFailure, standIn: string, now: number): boolean {
    let run = this.runs.get(zone);
    if (run === undefined) {
      run = new FailureRun({ remindMs: OUTAGE_REMIND_MS });
      this.runs.set(zone, run);
    }
    const news = run.failed(failure.reason, now);
    if (news === undefined) return false;
    const { lastedMs } = run.tally;
    this.logger[failure.level](
      {
        zone,
        endpoint: this.endpoint,
        failingForSeconds: Math.floor(lastedMs / 1000),
        ...(news === 'flapping' ? tallyFields(run) : {}),
        ...failure.fields,
      },
      `${this.prefix(zone)}${failingText(news, run)}${failure.reason}; ${standIn}`,
    );
    return true;
  }

  /**
   * A good answer at `now`: ends the zone's outage, or its flapping once held, in a line at warn,
   * as the outage was told (or at error): shown wherever the outage was, the default level too.
   */
  recovered(zone: string, now: number, fields: object = {}): void {
    const run = this.runs.get(zone);
    if (run === undefined) return;
    const news = run.succeeded(now);
    if (run.settled) this.runs.delete(zone);
    if (news === undefined) return;
    const then = this.endpoint === 'latest' ? '; its live values are used again' : '';
    const { lastedMs } = run.tally;
    if (news === 'steady') {
      this.logger.warn(
        { zone, endpoint: this.endpoint, ...tallyFields(run), ...fields },
        `${this.prefix(zone)}Electricity Maps answers steadily again, no failure for ${elapsedText(FLAP_WINDOW_MS)} (${spellText(run.tally, 'lookups')})${then}`,
      );
      return;
    }
    this.logger.warn(
      { zone, endpoint: this.endpoint, failedForSeconds: Math.floor(lastedMs / 1000), ...fields },
      `${this.prefix(zone)}Electricity Maps answers again after ${elapsedText(lastedMs)}${then}`,
    );
  }

  private prefix(zone: string): string {
    return this.endpoint === 'history' ? `grid: zone ${zone} history: ` : `grid: zone ${zone}: `;
  }
}

/** What a line adds before the reason: nothing for a run's first, else how it goes on. */
function failingText(news: FailureNews, run: FailureRun): string {
  if (news === 'started') return '';
  if (news === 'flapping') return `failing on and off, ${tallyText(run.tally, 'lookups')}: `;
  return `still failing after ${elapsedText(run.tally.lastedMs)}: `;
}

/** A flapping line's counts, as fields. */
function tallyFields(run: FailureRun): Record<string, number> {
  const { failed, attempts, overMs } = run.tally;
  return { failedLookups: failed, lookups: attempts, overSeconds: Math.floor(overMs / 1000) };
}
