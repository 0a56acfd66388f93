import { printable } from './printable.js';

/** The most characters of a refused string a message quotes. */
const QUOTED = 40;

/**
 * A refused value as an error message quotes it, by its kind and never by its own toString: a
 * string in JSON quotes (no raw control characters), cut short, and so named, since "100" reads
 * as 100; an object, array or function only by what it is, since String() of one runs its code,
 * can hand out what it holds, or throws for a null prototype in place of the message.
 */
export function shownValue(value: unknown): string {
  if (typeof value === 'string') return `${quotedText(value, QUOTED)} (a string)`;
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/**
 * A name a caller gave, as a message quotes it: in JSON quotes (control characters escaped, so
 * none runs in a terminal), cut at `max` UTF-16 units without halving a pair, `…` where cut.
 */
export function quotedText(text: string, max = 100): string {
  // Half a pair is U+FFFD, as a client's is in the service's messages, not JSON's `\udc00`.
  const whole = text.replace(/\p{Cs}/gu, '\ufffd');
  return jsonQuoted(cutText(whole, max));
}

/** `text` cut at `max` UTF-16 units without halving a pair, `…` where cut. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/**
 * JSON.stringify escapes the C0 controls only: DEL, a C1 control (U+009B is a CSI to a terminal
 * that takes them) and a bidi control (U+202E draws the rest of the line reversed) would go out
 * raw. printable writes those as JSON's own `\u` escapes, so the text stays JSON.
 */
function jsonQuoted(text: string): string {
  return printable(JSON.stringify(text));
}
