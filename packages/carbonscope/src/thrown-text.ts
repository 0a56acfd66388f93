import { printable } from './printable.js';

/** What a report says of a thrown value whose text cannot be read. */
const NO_TEXT = 'a value with no text';

/**
 * A thrown value's message (an Error's) or text, for a report of it. The reporter must not throw
 * in its turn: a value String() cannot convert (no prototype, a message of that kind, a `message`
 * getter that throws) is named instead.
 */
export function messageOf(err: unknown): string {
  try {
    return String(err instanceof Error ? err.message : err);
  } catch {
    return NO_TEXT;
  }
}

/** messageOf's first line, printable: for a one-line report. */
export function firstLineOf(err: unknown): string {
  return printable(messageOf(err).split('\n')[0]);
}
