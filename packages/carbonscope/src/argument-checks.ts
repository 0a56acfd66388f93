// Checks of what a JavaScript caller hands the public API, whatever the argument: one of the
// wrong type otherwise failed later, far from the call, as a message naming nothing it gave.

/**
 * The function track() and measure() run, checked before an operation is begun: called as it
 * was, a JavaScript caller's non-function failed inside carbonscope ("fn is not a function")
 * after an operation under its name had begun, and that operation was counted.
 */
export function checkedFunction(fn: unknown, caller: string): void {
  if (typeof fn === 'function') return;
  throw new TypeError(`${caller}: the function to run must be a function (got ${typeOf(fn)})`);
}

/** The kind begin() takes: one outside both was counted as an operation, and reported as given. */
export function checkedKind(kind: unknown): void {
  if (kind === undefined || kind === 'operation' || kind === 'request') return;
  const got = typeof kind === 'string' ? 'another string' : typeOf(kind);
  throw new TypeError(`begin(): the kind must be 'operation' or 'request' (got ${got})`);
}

/**
 * A call's options object (measure()'s): a null failed inside carbonscope ("Cannot destructure
 * property 'units'"), a string or a number was taken as no options, without a word.
 */
export function checkedOptions(options: unknown, caller: string): asserts options is object {
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) return;
  throw new TypeError(`${caller}: the options must be an object (got ${typeOf(options)})`);
}

/**
 * The response requestFootprint() is asked about: a logger's `res` that is undefined (a
 * framework that passes none) is a mistake of the recipe, said at the call rather than read
 * as "no figure" on every line.
 */
export function checkedResponse(res: unknown, caller: string): asserts res is object {
  if (typeof res === 'object' && res !== null) return;
  throw new TypeError(`${caller}: the response must be an object (got ${typeOf(res)})`);
}

/** A value's type as a message may name it: never its text, which may be anything. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}
