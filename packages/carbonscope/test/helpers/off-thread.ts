import { Worker } from 'node:worker_threads';

/** Workers still running: a test that timed out leaves its worker busy on a core. */
const running = new Set<Worker>();

/**
 * `work(module, ...args)` run on a worker thread, `module` being what `moduleUrl` exports. For
 * work whose regression is quadratic: synchronous on the test's thread, mocha's timeout could
 * not end it, and a 1 M-character input would hold the suite for minutes before failing; here
 * the timeout fails the test and stopOffThread (an afterEach) ends the work. `work` is sent as
 * its source: it may use only its arguments, which must be cloneable, as its result must be.
 */
export function offThread<M, A extends unknown[], R>(
  moduleUrl: URL,
  work: (module: M, ...args: A) => R,
  ...args: A
): Promise<R> {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
import(workerData.url).then((m) => parentPort.postMessage((${work.toString()})(m, ...workerData.args)));`;
  const worker = new Worker(source, { eval: true, workerData: { url: moduleUrl.href, args } });
  running.add(worker);
  return new Promise<R>((resolve, reject) => {
    worker.once('message', (result: R) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      running.delete(worker);
      reject(new Error(`the worker exited (${code}) without an answer`));
    });
  }).finally(() => void worker.terminate());
}

/** Ends the work of every offThread call still running (one whose test timed out). */
export async function stopOffThread(): Promise<void> {
  await Promise.all([...running].map((w) => w.terminate()));
  running.clear();
}
