import type { Context } from 'koa';
import { HttpError } from './errors.js';

/** The longest key of a bracket form echoed in an answer: the rest is the client's own text. */
const SHOWN_KEY_CHARS = 40;

/**
 * A key that sends `name` in a bracket form (`zone[]`, `zone[a]`): qs-style clients encode
 * arrays and objects so, and Node's querystring keeps it under a key of its own, which the
 * route would not read.
 */
function bracketKey(query: Record<string, unknown>, name: string): string | undefined {
  for (const key in query) {
    if (key.length > name.length && key.charCodeAt(name.length) === 0x5b && key.startsWith(name)) {
      return key;
    }
  }
  return undefined;
}

/**
 * The one value of query parameter `name`, or undefined when the query has none. Given more
 * than once (`zone=FR&zone=DE`) or in a bracket form (`zone[]=FR`), it is refused with a 400
 * naming it: read as absent, the client that asked for FR would be served the default instead,
 * without a word. Other parameters are left alone (a cache buster such as `_=1` is served).
 */
export function queryParam(ctx: Context, name: string): string | undefined {
  // No query string (most requests): Koa would still parse it and cache the empty result.
  if (ctx.querystring === '') return undefined;
  const query = ctx.query;
  const bracketed = bracketKey(query, name);
  if (bracketed !== undefined) {
    const shown = JSON.stringify(bracketed.slice(0, SHOWN_KEY_CHARS));
    throw new HttpError(
      400,
      `query parameter '${name}' was sent as ${shown}, an array or object form the service does not read: send ${name}=<value> once`,
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
