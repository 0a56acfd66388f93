// A process that ends by process.exit() or by a crash gives nobody a turn of the event loop after
// it: Node runs the `exit` listeners, synchronously, and ends. register's last push (a request to
// the collector) cannot be made there, and what was counted since the push before it is lost.
// Where register would have pushed, and counted something since its last push that arrived, one
// line says so, written from the `exit` listener (stderr is synchronous for files and pipes), so
// that the loss is not silent; an exit right after a push loses nothing and says nothing. Nothing here changes how
// the process ends: no `uncaughtException` listener (which would keep a crashed process alive and
// take Node's report of it away), only the monitor Node provides for looking.
import type { Logger } from './log.js';

type Crash = 'uncaughtException' | 'unhandledRejection';

const CRASH_TEXT: Readonly<Record<Crash, string>> = {
  uncaughtException: 'ended on an uncaught exception',
  unhandledRejection: 'ended on an unhandled rejection',
};

/** Whether Node ends the process on this error: nothing of the application's takes it. */
function crashes(): boolean {
  return (
    process.listenerCount('uncaughtException') === 0 &&
    !process.hasUncaughtExceptionCaptureCallback()
  );
}

/** The line for an end with `code`, after `crash` where the process crashed. */
export function unpushedText(code: number, crash: Crash | undefined): string {
  const how = crash ? CRASH_TEXT[crash] : `exited with code ${code}`;
  const advice = crash
    ? 'a crash leaves no turn to push in'
    : 'process.exit() leaves no turn to push in; `await stop()` from carbonscope before it pushes it';
  return `carbonscope/register: the process ${how} before its last push: what was counted since the last push is not exported (${advice})`;
}

/**
 * At the process's `exit`, says in one line that the last push was not made, where `unpushed()`
 * answers true then (register would have pushed, and its push did not end).
 */
export function tellUnpushedAtExit(unpushed: () => boolean, logger: Logger): void {
  let crash: Crash | undefined;
  process.on('uncaughtExceptionMonitor', (_err, origin) => {
    if (crashes()) crash = origin;
  });
  process.on('exit', (code) => {
    // What an exit listener throws is a crash of its own, with a stack of carbonscope's, in the
    // middle of the application's end (its stderr closed, say): the line is not worth that.
    try {
      if (unpushed()) logger.warn(unpushedText(code, crash));
    } catch {}
  });
}
