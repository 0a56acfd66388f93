const HOUR_MS = 3600_000;

/**
 * A token bucket of upstream lookups: `perHour` of them an hour, and as many at once after a
 * quiet hour (a user looking at a few zones in turn). Each token is one lookup started; the
 * retries within its timeout come with it.
 */
export class LookupBudget {
  private tokens: number;
  private at: number;

  constructor(
    readonly perHour: number,
    /** Monotonic ms: a wall clock set forward an hour refilled the whole budget. */
    private readonly now: () => number,
  ) {
    this.tokens = perHour;
    this.at = now();
  }

  /** Takes one lookup: 0 when it may start now, else how many ms until one may. */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * HOUR_MS) / this.perHour);
  }

  private refill(): void {
    const now = this.now();
    // Monotonic, but a scripted clock may still go back: never a negative refill.
    const elapsed = Math.max(0, now - this.at);
    this.at = now;
    this.tokens = Math.min(this.perHour, this.tokens + (elapsed * this.perHour) / HOUR_MS);
  }
}
