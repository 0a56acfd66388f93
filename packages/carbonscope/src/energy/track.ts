import { checkUnits, sciOf } from './sci.js';
import { TrackedOperation } from './tracked-operation.js';
import type {
  ActiveOperation,
  HttpRequestFacts,
  Measured,
  MeasureOptions,
  OperationAttributes,
  OperationFootprint,
} from './types.js';

type Begin = {
  begin(operation: string): ActiveOperation;
  /** What a failed operation's context masks in its error (TrackerOptions.secrets). */
  readonly secrets?: readonly string[];
  /** Told once that track() calls were nested MAX_NESTED_TRACKS deep on one call stack. */
  nestedTooDeep?(depth: number): void;
};

/**
 * How many track() calls may be running on one call stack (a recursive function that tracks
 * each level) before the deeper ones run untracked. Each tracked level costs about ten frames
 * of carbonscope's own; run out of stack inside them, an operation was begun and never ended
 * (counted as running until it aged out) and an async fn's rejected promise lost its handler,
 * which ended the process. Deeper, track() is a plain call: the stack runs out where the
 * application's own recursion would, in its code, and its work counts to the operations
 * around it. Deeper nesting than this measures nothing anyone reads per level.
 */
export const MAX_NESTED_TRACKS = 256;

/** The track() calls running on the call stack now (there is one stack: kept for all trackers). */
let tracksOnStack = 0;

/**
 * Runs fn (sync or async) as one operation of `tracker`: ended when fn returns, throws, or its
 * promise settles. Shared by every tracker so they all end operations the same way. Nested
 * deeper than MAX_NESTED_TRACKS on one call stack, fn runs untracked.
 */
export function trackWith<T>(tracker: Begin, operation: string, fn: () => T): T {
  if (tooDeepToTrack(tracker)) return passedThrough(fn);
  const op = tracker.begin(operation);
  let result: T;
  tracksOnStack++;
  try {
    result = op.run(fn);
  } catch (err) {
    failed(tracker, op, err);
    close(op);
    throw err;
  } finally {
    tracksOnStack--;
  }
  try {
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => {
          close(op);
          return value;
        },
        (err: unknown) => {
          failed(tracker, op, err);
          close(op);
          throw err;
        },
      ) as T;
    }
    close(op);
  } catch {
    outOfStack(() => close(op));
  }
  return result;
}

/**
 * Whether a track() now would be nested deeper than MAX_NESTED_TRACKS on this call stack, the
 * tracker told if so. Asked by each caller of trackWith too (the API's track(), Carbonscope's):
 * fn then runs under one frame of theirs, as deep as the application's own recursion would go.
 */
export function tooDeepToTrack(tracker: Begin): boolean {
  if (tracksOnStack < MAX_NESTED_TRACKS) return false;
  tracker.nestedTooDeep?.(tracksOnStack);
  return true;
}

/** fn's value in the shape trackWith gives it (untracked's), safe where the stack runs out. */
export function passedThrough<T>(fn: () => T): T {
  const result = fn();
  try {
    return isThenable(result) ? (Promise.resolve(result) as T) : result;
  } catch {
    return result;
  }
}

/**
 * Where the stack ran out once fn had returned (the application's own recursion around a
 * track()): fn's value goes back as it is, so that a rejection it carries reaches the caller.
 * Thrown instead, it was left unhandled, which ended the process. What is left to do is tried
 * once more, on the stack the throw unwound.
 */
function outOfStack(rest: () => void): void {
  try {
    rest();
  } catch {
    // Still none: the operation runs on until it is dropped for its age.
  }
}

const NO_SECRETS: readonly string[] = [];

/**
 * Tells the operation's context (its span) that its function failed. Never throws: the caller
 * rethrows fn's error next, and the stack may be all but spent (a RangeError of recursion).
 */
function failed(tracker: Begin, op: ActiveOperation, err: unknown): void {
  try {
    if (op instanceof TrackedOperation) op.context?.fail?.(err, tracker.secrets ?? NO_SECRETS);
  } catch {
    // A context of another's that throws, or no stack left: the span says less, nothing more.
  }
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
  attributes?: OperationAttributes,
): void {
  if (op instanceof TrackedOperation) op.close(operation, status, http, attributes);
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
    failed(tracker, op, err);
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
