import { checkUnits, sciOf } from './sci.js';
import { TrackedOperation } from './tracked-operation.js';
import type {
  ActiveOperation,
  HttpRequestFacts,
  Measured,
  MeasureOptions,
  OperationFootprint,
} from './types.js';

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
 * `settle` once fn is done (by default: wait for the tracker's next sample), and its SCI for
 * `options.units` functional units. A failure still ends (and reports) the operation, then
 * rejects with fn's error at once; a number of units that is not positive is refused before fn
 * runs (RangeError), one counted from the result after.
 */
export async function measureWith<T>(
  tracker: Begin,
  operation: string,
  fn: () => T | PromiseLike<T>,
  options: MeasureOptions<T> = {},
  settle: (op: ActiveOperation) => Promise<OperationFootprint> = (op) => op.settled(),
): Promise<Measured<T>> {
  const { units = 1 } = options;
  if (typeof units === 'number') checkUnits(units);
  else if (typeof units !== 'function') {
    // A JavaScript caller's '3': found only after fn ran, as "units is not a function".
    throw new TypeError(
      `R (functional units) must be a number or a function of the result, got ${units === null ? 'null' : typeof units}`,
    );
  }
  const op = tracker.begin(operation);
  let result: T;
  try {
    result = await op.run(fn);
  } catch (err) {
    op.end();
    throw err;
  }
  op.end();
  const footprint = await settle(op);
  return {
    result,
    footprint,
    sci: sciOf(footprint, typeof units === 'number' ? units : units(result)),
  };
}

/**
 * Runs fn unmetered (no tracker to run it in), its value in the shape trackWith gives it: a
 * thenable as a native Promise of its result, so a caller sees the same whatever its host does.
 */
export function untracked<T>(fn: () => T): T {
  const result = fn();
  return isThenable(result) ? (Promise.resolve(result) as T) : result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
