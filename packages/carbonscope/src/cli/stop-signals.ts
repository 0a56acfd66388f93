/** What ends `monitor` with its summary: Ctrl-C, a `kill`, and the terminal closing. */
export const MONITOR_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Takes each of `signals` from now on, in place of Node's default (which ends the process with
 * nothing printed): the promise settles on the first. Installed before `monitor` loads its
 * modules (about 0.3 s), so a Ctrl-C while it starts ends it with its summary as a later one
 * does. The listeners stay: a second Ctrl-C while the summary and row are written must not end
 * the process by the default, which would lose them (and the last push).
 */
export function stopSignalled(signals: readonly NodeJS.Signals[]): Promise<void> {
  return new Promise((resolve) => {
    for (const signal of signals) process.on(signal, () => resolve());
  });
}
