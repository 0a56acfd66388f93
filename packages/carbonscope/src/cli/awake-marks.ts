/**
 * When `run` last knew its loop to be running, to tell when the command ended. Linux keeps no
 * exit time for a zombie: its exit is seen when the loop next runs. Where carbonscope was stopped
 * (SIGSTOP, `docker pause`, a debugger) or its loop blocked, that is when it woke, and the
 * command may have ended anywhere since it last ran (a 2 s command read "after 9.07 s").
 */
export class AwakeMarks {
  private lastMs: number;
  private gap: { fromMs: number; toMs: number } | undefined;

  /** `gapMs`: a longer wait between ticks (or since the last one) is a time it did not run. */
  constructor(
    startMs: number,
    private readonly gapMs: number,
  ) {
    this.lastMs = startMs;
  }

  /** The loop ran at `nowMs` (a periodic timer's tick). */
  tick(nowMs: number): void {
    if (nowMs - this.lastMs > this.gapMs) this.gap = { fromMs: this.lastMs, toMs: nowMs };
    this.lastMs = nowMs;
  }

  /**
   * Where something seen at `nowMs` may have happened earlier, unseen: since the loop last ran
   * before a gap it has just woken from (no tick since, or only the wake's overdue one). What
   * happened in the gap is seen in the wake's first poll, before the next tick: once a tick came
   * on time after it, an end seen later came after the wake, and is seen on time.
   */
  unseenSince(nowMs: number): number | undefined {
    if (nowMs - this.lastMs > this.gapMs) return this.lastMs;
    if (this.gap?.toMs === this.lastMs) return this.gap.fromMs;
    return undefined;
  }
}
