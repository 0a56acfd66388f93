/** The most characters of a refused string a message quotes. */
const QUOTED = 40;

/**
 * A refused value as an error message quotes it, by its kind and never by its own toString: a
 * string in JSON quotes (no raw control characters), cut short, and so named, since "100" reads
 * as 100; an object, array or function only by what it is, since String() of one runs its code,
 * can hand out what it holds, or throws for a null prototype in place of the message.
 */
export function shownValue(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > QUOTED ? `${value.slice(0, QUOTED)}…` : value;
    return `${JSON.stringify(cut)} (a string)`;
  }
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
