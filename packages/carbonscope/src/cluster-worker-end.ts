// A cluster worker whose IPC channel closes unasked (a bare process.disconnect(), its primary
// gone) is ended by Node at once: its own 'disconnect' listener calls process.exit(0), so there
// is no beforeExit for register's last push. Without a push here, what the worker counted since
// its last periodic push (up to OTEL_METRIC_EXPORT_INTERVAL, 60 s) would be lost.
import cluster from 'node:cluster';

/**
 * The longest the worker is kept for its last push, whatever happens to it: the push has a
 * deadline of its own (2 s, LastPush).
 */
const HOLD_MS = 5_000;

/**
 * In a cluster worker: at a disconnect that was not asked for, `lastPush()` is called, and where
 * it gives a promise the worker ends once it settles (HOLD_MS at most), with the code Node gives
 * it (0). An asked-for one (cluster.worker.disconnect(), the primary's worker.disconnect()) lets
 * the worker end by itself, through beforeExit, and is left alone.
 */
export function pushBeforeUnaskedDisconnect(lastPush: () => Promise<unknown> | undefined): void {
  const worker = cluster.isWorker ? cluster.worker : undefined;
  if (!worker) return;
  // Emitted by Node's listener just before it looks at exitedAfterDisconnect.
  worker.once('disconnect', () => {
    if (worker.exitedAfterDisconnect) return;
    const pushing = lastPush();
    if (pushing === undefined) return;
    // Node's listener then leaves the exit to this one. The worker-side flag only: the
    // primary's copy, which says whether to fork a new worker, is its own.
    worker.exitedAfterDisconnect = true;
    const exit = () => process.exit(0);
    setTimeout(exit, HOLD_MS);
    pushing.then(exit, exit);
  });
}
