import { STOP_SIGNALS } from './stop-signals.js';

/** Whether a stop signal came while the CLI waited at its end: no later wait holds it then. */
let stopAsked = false;

/**
 * Resolves once `stream` has written all it was given (or failed: its reader left), or once the
 * CLI is asked to stop (STOP_SIGNALS: Ctrl-C, SIGTERM...) while it waits, this wait or an
 * earlier one. A reader that pauses (a pager not scrolled yet, `| (sleep 5; cat)`) gets it all,
 * however long it takes: a limit on the wait lost what Node still queued, the summary with it. A
 * supervisor that never reads the stderr it gave held the CLI here, its figures written, and its
 * SIGTERM did nothing (a SIGKILL ended it): that stop now ends the wait, with the CLI's status.
 */
export function drainedOrStopped(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if (stopAsked) {
      resolve();
      return;
    }
    const stop = (): void => {
      stopAsked = true;
      done();
    };
    const done = (): void => {
      for (const signal of STOP_SIGNALS) process.off(signal, stop);
      resolve();
    };
    for (const signal of STOP_SIGNALS) process.on(signal, stop);
    stream.write('', done);
  });
}
