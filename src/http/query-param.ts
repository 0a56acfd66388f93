import type { Context } from 'koa';
import { HttpError } from './text/index.js';

/** The longest misspelled key echoed in an answer: the rest is the client's own text. */
const SHOWN_KEY_CHARS = 40;

/** Whether `key` starts with `name` but for the case of ASCII letters (`Zone` for `zone`). */
function startsWithAnyCase(key: string, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = key.charCodeAt(i);
    // Only A-Z fold: toLowerCase() maps the Kelvin sign to k, which no client means as one.
    const folded = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    if (folded !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A key that sends `name` in a form the route would not read: a bracket form (`zone[]`,
 * `zone[a]`), which qs-style clients use for arrays and objects and Node's querystring keeps
 * under a key of its own, or another case (`Zone`, `ZONE`): keys are case-sensitive, and read
 * as absent the client would be served the default without a word. `name` is lower case.
 */
function misspelledKey(query: Record<string, unknown>, name: string): string | undefined {
  for (const key in query) {
    if (key === name || key.length < name.length || !startsWithAnyCase(key, name)) continue;
    if (key.length === name.length || key.charCodeAt(name.length) === 0x5b) return key;
  }
  return undefined;
}

/**
 * The one value of query parameter `name`, or undefined when the query has none. Given more
 * than once (`zone=FR&zone=DE`), in a bracket form (`zone[]=FR`) or in another case (`Zone=FR`),
 * it is refused with a 400 naming it: read as absent, the client that asked for FR would be
 * served the default instead, without a word. Other parameters are left alone (a cache buster
 * such as `_=1` is served).
 */
export function queryParam(ctx: Context, name: string): string | undefined {
  // No query string (most requests): Koa would still parse it and cache the empty result.
  if (ctx.querystring === '') return undefined;
  const query = ctx.query;
  const misspelled = misspelledKey(query, name);
  if (misspelled !== undefined) {
    const shown = JSON.stringify(misspelled.slice(0, SHOWN_KEY_CHARS));
    const form =
      misspelled.length === name.length
        ? 'a spelling the service does not read (names are case-sensitive)'
        : 'an array or object form the service does not read';
    throw new HttpError(
      400,
      `query parameter '${name}' was sent as ${shown}, ${form}: send ${name}=<value> once`,
    );
  }
  const value = query[name];
  if (Array.isArray(value)) {
    throw new HttpError(
      400,
      `query parameter '${name}' is given ${value.length} times: send it once`,
    );
  }
  return value;
}
