// A process that ends by process.exit() or by a crash gives nobody a turn of the event loop after
// it: Node runs the `exit` listeners, synchronously, and ends. register's last push (a request to
// the collector) cannot be made there, and what was counted since the push before it is lost.
// Where register would have pushed, and counted something since its last push that arrived, one
// line says so, written from the `exit` listener (stderr is synchronous for files and pipes), so
// that the loss is not silent; an exit right after a push loses nothing and says nothing. Nothing here changes how
// the process ends: no `uncaughtException` listener (which would keep a crashed process alive and
// take Node's report of it away), only the monitor Node provides for looking.
// The line says "crashed", not which of Node's two origins reported it: Node 20 and 24 report an
// ES module that throws as it loads (a top-level throw, a rejected top-level await, an import of a
// missing module) through its load's promise, as an `unhandledRejection`, where the application
// rejected nothing. Node's own report, written after the line, says what the error was.
import type { Logger } from './log.js';

/** Whether Node ends the process on this error: nothing of the application's takes it. */
function crashes(): boolean {
  return (
    process.listenerCount('uncaughtException') === 0 &&
    !process.hasUncaughtExceptionCaptureCallback()
  );
}

/** The line for an end with `code`, or for a crash. */
export function unpushedText(code: number, crashed: boolean): string {
  const how = crashed ? 'crashed on an uncaught error' : `exited with code ${code}`;
  const advice = crashed
    ? 'a crash leaves no turn to push in'
    : 'process.exit() leaves no turn to push in; `await stop()` from carbonscope before it pushes it';
  return `carbonscope/register: the process ${how} before its last push: what was counted since the last push is not exported (${advice})`;
}

/**
 * At the process's `exit`, says in one line that the last push was not made, where `unpushed()`
 * answers true then (register would have pushed, and its push did not end).
 */
export function tellUnpushedAtExit(unpushed: () => boolean, logger: Logger): void {
  let crashed = false;
  process.on('uncaughtExceptionMonitor', () => {
    if (crashes()) crashed = true;
  });
  process.on('exit', (code) => {
    // What an exit listener throws is a crash of its own, with a stack of carbonscope's, in the
    // middle of the application's end (its stderr closed, say): the line is not worth that.
    try {
      if (unpushed()) logger.warn(unpushedText(code, crashed));
    } catch {}
  });
}
