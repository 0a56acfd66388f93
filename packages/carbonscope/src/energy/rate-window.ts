/**
 * Per-second rates over at least `minSeconds` of the latest time, from amounts counted per
 * interval of any length. A collection samples whenever operations wait to settle, so an
 * interval may last a fraction of a millisecond: over it an energy counter that moves in steps
 * (RAPL's, about every millisecond) or /proc/stat's 10 ms CPU ticks read 0 or a whole step, and
 * a rate of that interval alone would show a 100 W package at 0 W or 500 W. A short interval is
 * therefore read together with the window before it; the amounts themselves (the energy
 * counters) are untouched.
 */
export class RateWindow {
  /** The last window that reached minSeconds, and what came after it. */
  private readonly before = new Map<string, number>();
  private beforeSeconds = 0;
  private readonly current = new Map<string, number>();
  private currentSeconds = 0;

  constructor(private readonly minSeconds: number) {}

  /** Starts an interval of `seconds`: what add() gives until the next one is in it. */
  begin(seconds: number): void {
    if (this.currentSeconds >= this.minSeconds) {
      this.before.clear();
      for (const [key, amount] of this.current) this.before.set(key, amount);
      this.beforeSeconds = this.currentSeconds;
      this.current.clear();
      this.currentSeconds = 0;
    }
    this.currentSeconds += seconds;
  }

  add(key: string, amount: number): void {
    this.current.set(key, (this.current.get(key) ?? 0) + amount);
  }

  /** `key`'s amount per second over the intervals since the last full window, or with it. */
  rate(key: string): number {
    const amount = this.current.get(key) ?? 0;
    if (this.currentSeconds >= this.minSeconds || !(this.beforeSeconds > 0)) {
      return this.currentSeconds > 0 ? amount / this.currentSeconds : 0;
    }
    const before = this.before.get(key) ?? 0;
    return (amount + before) / (this.currentSeconds + this.beforeSeconds);
  }
}
