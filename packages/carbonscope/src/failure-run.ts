import { elapsedText } from './elapsed-text.js';

/** Within one run of failures, a line is told no sooner than this after the last one. */
export const REASON_REPEAT_MS = 10 * 60_000;

/**
 * How long a recovery must hold before a new failure is a new run (and before the end of a
 * flapping spell is told): the same 10 min a reason waits, so a flapping upstream costs at most
 * the lines a long outage with changing reasons does (about 6 an hour), and a window spans many
 * attempts (120 pushes at a 5 s interval, 10 at the default 60 s; a grid zone's lookups 5 min
 * apart twice), so its counts say how bad it is.
 */
export const FLAP_WINDOW_MS = REASON_REPEAT_MS;

/**
 * What a failure is worth telling: the run's first, a new reason, a reminder of the same, or
 * (within FLAP_WINDOW_MS of a recovery) the counts of an upstream failing on and off.
 */
export type FailureNews = 'started' | 'changed' | 'continues' | 'flapping';

/**
 * What a success is worth telling: the end of a run of failures (at once), or the end of a
 * flapping spell (once no failure came for FLAP_WINDOW_MS).
 */
export type RecoveryNews = 'recovered' | 'steady';

/** The figures of the line just told; read them at once, the next call changes them. */
export interface FailureTally {
  /** 'flapping': failures since the last such line (or the spell's start); 'steady': the spell's. */
  failed: number;
  /** The attempts those failures are among. */
  attempts: number;
  /** How long those attempts took, from the stretch's start to now. */
  overMs: number;
  /** 'recovered': how long the run of failures it ends lasted. */
  lastedMs: number;
}

export interface FailureRunOptions {
  /**
   * How long after the last line the same reason is told again while the run lasts; never by
   * default (an OTLP push fails on every interval, and one line says it).
   */
  remindMs?: number;
}

/** quiet: nothing failed for a window; failing: a run; recovered: held < a window; flapping. */
type State = 'quiet' | 'failing' | 'recovered' | 'flapping';

/**
 * The one policy for telling runs of failures of one thing (an OTLP push, a grid zone's
 * lookups). A run is told when it starts; a new reason no sooner than REASON_REPEAT_MS after the
 * last line, the same reason only as a reminder; its end at once, with its length (an operator
 * who fixed the upstream sees it work, and a lone outage stays two lines).
 *
 * A failure within FLAP_WINDOW_MS of the last one, after a recovery, is no new run: the upstream
 * is flapping. That is one line at once (the recovery just told was wrong), then one at most per
 * window with the counts since the last; its successes are counted, not told, and its end is
 * told only once no failure came for a window. A flap whose failures outlast a window with no
 * success is a run again. So every other attempt failing costs about 6 lines an hour, not one
 * pair per attempt. It decides and counts (nothing allocated per attempt); the caller writes.
 */
export class FailureRun {
  private state: State = 'quiet';
  /** The reason told last. */
  private reason = '';
  /** The first failure since the last success. */
  private startedAt = 0;
  private toldAt = 0;
  private flapToldAt = Number.NEGATIVE_INFINITY;
  private lastFailedAt = 0;
  private lastSucceeded = false;
  /** The spell: from the failure that started it to its end (a window with no failure). */
  private spellFrom = 0;
  private spellFailed = 0;
  private spellAttempts = 0;
  /** Since the last 'flapping' line (the spell's start before the first). */
  private periodFrom = 0;
  private periodFailed = 0;
  private periodAttempts = 0;
  private readonly told: FailureTally = { failed: 0, attempts: 0, overMs: 0, lastedMs: 0 };
  private readonly remindMs: number;

  constructor(options: FailureRunOptions = {}) {
    this.remindMs = options.remindMs ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the last attempt failed, or the upstream is flapping. */
  get failing(): boolean {
    return this.state === 'failing' || this.state === 'flapping';
  }

  /**
   * Whether the last attempt failed: the upstream is down now, as far as anyone knows (a last
   * push at exit gets one short try, not the full wait).
   */
  get lastFailed(): boolean {
    return this.state !== 'quiet' && !this.lastSucceeded;
  }

  /** Whether nothing failed for a window: a caller may forget this run. */
  get settled(): boolean {
    return this.state === 'quiet';
  }

  /** The figures of the line just told (see FailureTally). */
  get tally(): Readonly<FailureTally> {
    return this.told;
  }

  /** How long the failures since the last success have lasted at `now` (0 when none). */
  lastedAt(now: number): number {
    return this.lastSucceeded || this.state === 'quiet' ? 0 : now - this.startedAt;
  }

  /** A failure at `now` (any clock, the same for every call): what to tell, if anything. */
  failed(reason: string, now: number): FailureNews | undefined {
    // Failures in a row are one run however far apart (an export interval may exceed a window).
    const held = this.lastSucceeded && now - this.lastFailedAt >= FLAP_WINDOW_MS;
    if (this.state === 'quiet' || held) return this.start(reason, now);
    if (this.lastSucceeded) this.startedAt = now;
    this.lastSucceeded = false;
    this.lastFailedAt = now;
    this.count(1);
    if (this.state === 'failing') return this.inRun(reason, now);
    this.state = 'flapping';
    // Failures with no success for a window: an outage again, told by a run's rules.
    if (now - this.startedAt >= FLAP_WINDOW_MS) this.state = 'failing';
    if (now - this.flapToldAt < FLAP_WINDOW_MS) return undefined;
    this.figures(this.periodFailed, this.periodAttempts, now - this.periodFrom, now);
    this.flapToldAt = now;
    this.periodFrom = now;
    this.periodFailed = 0;
    this.periodAttempts = 0;
    return this.tell(reason, now, 'flapping');
  }

  /** A success at `now`: what to tell, if anything. */
  succeeded(now: number): RecoveryNews | undefined {
    if (this.state === 'quiet') return undefined;
    this.count(0);
    if (this.state === 'failing') {
      this.figures(0, 0, 0, now);
      this.state = 'recovered';
      this.lastSucceeded = true;
      return 'recovered';
    }
    this.lastSucceeded = true;
    if (now - this.lastFailedAt < FLAP_WINDOW_MS) return undefined;
    const flapped = this.state === 'flapping';
    this.state = 'quiet';
    if (!flapped) return undefined;
    this.figures(this.spellFailed, this.spellAttempts, now - this.spellFrom, now);
    return 'steady';
  }

  private start(reason: string, now: number): FailureNews {
    this.state = 'failing';
    this.startedAt = now;
    this.lastFailedAt = now;
    this.lastSucceeded = false;
    this.flapToldAt = Number.NEGATIVE_INFINITY;
    this.spellFrom = now;
    this.periodFrom = now;
    this.spellFailed = 1;
    this.spellAttempts = 1;
    this.periodFailed = 1;
    this.periodAttempts = 1;
    this.figures(1, 1, 0, now);
    return this.tell(reason, now, 'started');
  }

  /** A failure within a run: a new reason or a reminder, when due. */
  private inRun(reason: string, now: number): FailureNews | undefined {
    const since = now - this.toldAt;
    this.figures(this.periodFailed, this.periodAttempts, now - this.periodFrom, now);
    if (reason !== this.reason) {
      return since >= REASON_REPEAT_MS ? this.tell(reason, now, 'changed') : undefined;
    }
    return since >= this.remindMs ? this.tell(reason, now, 'continues') : undefined;
  }

  private count(failed: number): void {
    this.spellFailed += failed;
    this.spellAttempts += 1;
    this.periodFailed += failed;
    this.periodAttempts += 1;
  }

  private figures(failed: number, attempts: number, overMs: number, now: number): void {
    this.told.failed = failed;
    this.told.attempts = attempts;
    this.told.overMs = overMs;
    this.told.lastedMs = this.lastedAt(now);
  }

  private tell(reason: string, now: number, news: FailureNews): FailureNews {
    this.reason = reason;
    this.toldAt = now;
    return news;
  }
}

/** A 'flapping' tally as its line says it: "failed 37 of the last 72 pushes in 10 min". */
export function tallyText(tally: Readonly<FailureTally>, attempts: string): string {
  return `failed ${tally.failed} of the last ${tally.attempts} ${attempts} in ${elapsedText(tally.overMs)}`;
}

/** A 'steady' tally, the whole spell: "180 of 479 pushes failed in 39 min". */
export function spellText(tally: Readonly<FailureTally>, attempts: string): string {
  return `${tally.failed} of ${tally.attempts} ${attempts} failed in ${elapsedText(tally.overMs)}`;
}
