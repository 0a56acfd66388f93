import type { ActiveOperation, OperationFootprint } from './types.js';

type Begin = { begin(operation: string): ActiveOperation };

/**
 * Runs fn (sync or async) as one operation of `tracker`: ended when fn returns, throws, or its
 * promise settles. Shared by every tracker so they all end operations the same way.
 */
export function trackWith<T>(tracker: Begin, operation: string, fn: () => T): T {
  const op = tracker.begin(operation);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    op.end();
    throw err;
  }
  if (isThenable(result)) return Promise.resolve(result).finally(() => op.end()) as T;
  op.end();
  return result;
}

/**
 * Runs fn as one operation and resolves to its result with its footprint; a failure still ends
 * (and reports) the operation, then rejects with fn's error.
 */
export async function measureWith<T>(
  tracker: Begin,
  operation: string,
  fn: () => T | PromiseLike<T>,
): Promise<{ result: T; footprint: OperationFootprint }> {
  const op = tracker.begin(operation);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    op.end();
    throw err;
  }
  return { result, footprint: op.end() };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
