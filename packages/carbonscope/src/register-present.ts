import { setHidden } from './hidden-slot.js';

/**
 * Set by `--import carbonscope/register` in the main thread, on globalThis so that another copy
 * of the package sees it: register exports the process's figures itself (its own SDK where the
 * application registers no provider) and says where they go, so an instrumentation handed the
 * API's no-op has nothing to warn about.
 */
const KEY = Symbol.for('carbonscope.register-present.v1');
const holder = globalThis as { [KEY]?: boolean };

export function markRegisterPresent(): void {
  setHidden(holder, KEY, true);
}

export function registerPresent(): boolean {
  return holder[KEY] === true;
}

/** For tests that play register's part. */
export function clearRegisterPresent(): void {
  delete holder[KEY];
}
