export interface SteppedWallClock {
  /** Moves the step: Date.now() reads this many ms off the real wall clock from now on. */
  set(offsetMs: number): void;
  /** Puts the real Date.now back. */
  restore(): void;
}

/**
 * Steps the wall clock as a VM resuming or NTP does: Date.now() reads `offsetMs` off from now on,
 * while the performance clock runs on untouched. Call `restore` in a `finally`.
 */
export function stepWallClock(offsetMs: number): SteppedWallClock {
  const wallClock = Date.now;
  let step = offsetMs;
  Date.now = () => wallClock.call(Date) + step;
  return {
    set: (ms) => {
      step = ms;
    },
    restore: () => {
      Date.now = wallClock;
    },
  };
}
