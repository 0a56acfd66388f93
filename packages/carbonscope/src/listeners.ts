import { typeOf } from './argument-checks.js';

/**
 * Listeners, copied on write: a call walks the array as it was when it began, so a listener
 * that unsubscribes as it is called (one waiting for the first operation) no longer takes the
 * next one's call, and calling them allocates nothing; subscribing is rare.
 */
export class Listeners<L> {
  all: readonly L[] = [];

  /** Adds `listener`; returns what takes it off again. */
  add(listener: L): () => void {
    this.all = [...this.all, listener];
    return () => {
      const i = this.all.indexOf(listener);
      if (i >= 0) this.all = [...this.all.slice(0, i), ...this.all.slice(i + 1)];
    };
  }
}

/**
 * Hands a listener's rejection to `failed`: an async listener's result is not awaited, and its
 * rejection, unhandled, ended the process (Node's default), from a timer's sample or a
 * request's end. A listener that returns nothing costs one comparison.
 */
export function catchRejection(result: unknown, failed: (err: unknown) => void): void {
  if (result === undefined || result === null) return;
  const then = (result as { then?: unknown }).then;
  if (typeof then === 'function') {
    Promise.resolve(result).then(undefined, failed);
  }
}

/**
 * Calls each of `listeners` with `arg`. What one throws, or an async one's promise rejects with,
 * goes to `failed`, never to the caller: its code (a request's end, a timer's sample) is not theirs.
 * Walked by index: a for-of here, called with arrays and the meter's Set alike, asked the array
 * for an iterator, one object per call that V8 did not optimize away (`ArrayPrototypeValues` in
 * perf), two per request.
 */
export function callEach<A>(
  listeners: readonly ((arg: A) => unknown)[],
  arg: A,
  failed: (err: unknown) => void,
): void {
  for (let i = 0; i < listeners.length; i++) callOne(listeners[i], arg, failed);
}

/** Calls `listener` with `arg`; what it throws or rejects with goes to `failed` (see callEach). */
export function callOne<A>(
  listener: (arg: A) => unknown,
  arg: A,
  failed: (err: unknown) => void,
): void {
  try {
    catchRejection(listener(arg), failed);
  } catch (err) {
    failed(err);
  }
}

/**
 * Calls each of `listeners` with `arg`, as callEach does, but for what one throws: every one is
 * called, and the first throw is returned (`{ err }`, allocated only then) for the caller to
 * rethrow after its own work, as a sample's report does. A rejection goes to `rejected`.
 */
export function callEachKeepingFirst<A>(
  listeners: readonly ((arg: A) => unknown)[],
  arg: A,
  rejected: (err: unknown) => void,
): { err: unknown } | undefined {
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < listeners.length; i++) {
    try {
      catchRejection(listeners[i](arg), rejected);
    } catch (err) {
      failure ??= { err };
    }
  }
  return failure;
}

/** Throws unless `listener` is a function: one that is not failed at each call, far from here. */
export function checkListener(listener: unknown, caller: string): void {
  if (typeof listener === 'function') return;
  throw new TypeError(`${caller}(): the listener must be a function (got ${typeOf(listener)})`);
}
