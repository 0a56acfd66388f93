/** Within one run of failures, a line is told no sooner than this after the last one. */
export const REASON_REPEAT_MS = 10 * 60_000;

/** What a failure is worth telling: the run's first, a new reason, or a reminder of the same. */
export type FailureNews = 'started' | 'changed' | 'continues';

export interface FailureRunOptions {
  /**
   * How long after the last line the same reason is told again while the run lasts; never by
   * default (an OTLP push fails on every interval, and one line says it).
   */
  remindMs?: number;
}

/**
 * The one policy for telling a run of failures of one thing (an OTLP push, a grid zone's
 * lookups): a line when the run starts, a new reason no sooner than REASON_REPEAT_MS after the
 * last line (so reasons taking turns add no line per attempt), the same reason again only as a
 * reminder, and the run's length when it ends. It decides; the caller writes the lines.
 */
export class FailureRun {
  /** The reason told last; undefined while nothing fails. */
  private told: string | undefined;
  private startedAt = 0;
  private toldAt = 0;
  private readonly remindMs: number;

  constructor(options: FailureRunOptions = {}) {
    this.remindMs = options.remindMs ?? Number.POSITIVE_INFINITY;
  }

  get failing(): boolean {
    return this.told !== undefined;
  }

  /** How long the run has lasted at `now` (0 when none is going on). */
  lastedAt(now: number): number {
    return this.told === undefined ? 0 : now - this.startedAt;
  }

  /** A failure at `now` (any clock, the same for every call): what to tell, if anything. */
  failed(reason: string, now: number): FailureNews | undefined {
    if (this.told === undefined) {
      this.startedAt = now;
      return this.tell(reason, now, 'started');
    }
    const since = now - this.toldAt;
    if (reason !== this.told) {
      return since >= REASON_REPEAT_MS ? this.tell(reason, now, 'changed') : undefined;
    }
    return since >= this.remindMs ? this.tell(reason, now, 'continues') : undefined;
  }

  /** A success at `now`: how long the run it ends lasted, or undefined when none was going on. */
  succeeded(now: number): number | undefined {
    if (this.told === undefined) return undefined;
    this.told = undefined;
    return now - this.startedAt;
  }

  private tell(reason: string, now: number, news: FailureNews): FailureNews {
    this.told = reason;
    this.toldAt = now;
    return news;
  }
}
