/** A job added to run ahead of its test: the test's call resolves with what the job resolved. */
export type AheadResult<T> = () => Promise<T>;

export interface AheadOfTests {
  /** Adds a job to start with the others; the call it returns is the test's. */
  add<T>(job: () => Promise<T>): AheadResult<T>;
  /**
   * Starts the jobs, `atOnce` at a time, in the order added, but for one whose test awaits it
   * while it waits its turn: that one goes next.
   */
  startAll(): void;
  /** Resolves once every job started has ended (a failure is its test's, not this one's). */
  settled(): Promise<void>;
}

interface Entry {
  job: () => Promise<unknown>;
  result?: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * Jobs (a test's process) started ahead of their tests, a few at a time, so that each test then
 * asserts on what its own job did as if it had run alone. The order added is not the order the
 * tests run in (Mocha runs a describe's own tests before those of the describes inside it, and
 * --grep skips some): a test that awaited the jobs added before its own, in its timeout, failed
 * by theirs. It waits for a free place at most.
 */
export function aheadOfTests(atOnce: number): AheadOfTests {
  const entries: Entry[] = [];
  const queued: Entry[] = [];
  let running = 0;
  let started = false;
  const next = () => {
    while (running < atOnce && queued.length > 0) {
      const entry = queued.shift() as Entry;
      running++;
      (async () => entry.job())()
        .then(entry.resolve, entry.reject)
        .finally(() => {
          running--;
          next();
        });
    }
  };
  return {
    add<T>(job: () => Promise<T>): AheadResult<T> {
      const entry = { job } as Entry;
      entry.result = new Promise((resolve, reject) => {
        entry.resolve = resolve;
        entry.reject = reject;
      });
      // The test awaits it; a failure is its test's, not an unhandled rejection before then.
      entry.result.catch(() => undefined);
      entries.push(entry);
      return () => {
        if (!started) throw new Error('the jobs start in the before hook');
        const waiting = queued.indexOf(entry);
        if (waiting > 0) queued.unshift(...queued.splice(waiting, 1));
        return entry.result as Promise<T>;
      };
    },
    startAll() {
      started = true;
      queued.push(...entries);
      next();
    },
    settled: async () => {
      await Promise.all(entries.map((e) => e.result?.catch(() => undefined)));
    },
  };
}
