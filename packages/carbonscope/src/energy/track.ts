import { TrackedOperation } from './tracked-operation.js';
import type { ActiveOperation, HttpRequestFacts, OperationFootprint } from './types.js';

type Begin = { begin(operation: string): ActiveOperation };

/**
 * Runs fn (sync or async) as one operation of `tracker`: ended when fn returns, throws, or its
 * promise settles. Shared by every tracker so they all end operations the same way.
 */
export function trackWith<T>(tracker: Begin, operation: string, fn: () => T): T {
  const op = tracker.begin(operation);
  let result: T;
  try {
    result = op.run(fn);
  } catch (err) {
    close(op);
    throw err;
  }
  if (isThenable(result)) return Promise.resolve(result).finally(() => close(op)) as T;
  close(op);
  return result;
}

/**
 * Ends an operation whose footprint the caller drops: a tracked one is closed (nothing built,
 * nothing kept for settled()), any other ended.
 */
export function close(
  op: ActiveOperation,
  operation?: string,
  status?: number,
  http?: HttpRequestFacts,
): void {
  if (op instanceof TrackedOperation) op.close(operation, status, http);
  else op.end(operation, status, http);
}

/**
 * Runs fn as one operation and resolves to its result with its settled footprint, got by
 * `settle` once fn is done (by default: wait for the tracker's next sample). A failure still
 * ends (and reports) the operation, then rejects with fn's error at once.
 */
export async function measureWith<T>(
  tracker: Begin,
  operation: string,
  fn: () => T | PromiseLike<T>,
  settle: (op: ActiveOperation) => Promise<OperationFootprint> = (op) => op.settled(),
): Promise<{ result: T; footprint: OperationFootprint }> {
  const op = tracker.begin(operation);
  let result: T;
  try {
    result = await op.run(fn);
  } catch (err) {
    op.end();
    throw err;
  }
  op.end();
  return { result, footprint: await settle(op) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
