import { typeOf } from './argument-checks.js';

/**
 * An operation name as given to the API, checked: it becomes the `carbonscope.operation` label,
 * and one that is not text (a JavaScript caller's undefined or number) would only fail later,
 * in the listener that counts it, as a warning far from the call.
 */
export function checkedOperationName(name: unknown, caller: string): string {
  if (typeof name === 'string' && name !== '') return name;
  const got = typeof name === 'string' ? '""' : typeOf(name);
  throw new TypeError(`${caller}: the operation name must be a non-empty string (got ${got})`);
}
