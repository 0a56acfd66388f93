import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { redactSecrets } from '../log.js';
import { printable } from '../printable.js';
import { cutText } from '../shown-value.js';
import { maskUrlText } from '../url-credentials.js';

/** The most UTF-16 units of a failed operation's status description, `…` where cut. */
export const MAX_STATUS_MESSAGE = 256;
/** The most UTF-16 units of its `error.type`: a code or a class name, not prose. */
export const MAX_ERROR_TYPE = 64;

/** Read of the message before masking: a 10 MB message costs no more than this much. */
const READ_AT_MOST = 4 * MAX_STATUS_MESSAGE;
/** A URL written in free text, up to the first blank or quote. */
const URL_IN_TEXT = /[a-z][a-z\d+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * Marks `span` as its operation's failure, as semconv's "Recording errors" says: status ERROR,
 * `error.type` (the error's `code`, else its class name, else `_OTHER`), and the error's message
 * as the description. No `exception` event: the same document does not recommend one, and its
 * stack (paths, arguments) would go out with every failure. The message is the application's
 * own text, so it goes out bounded: one printable line, cut, each of `secrets` (those
 * carbonscope knows, as redactionList gives them) in it masked, as a log line masks them, and
 * each URL with its userinfo and secret parameters. An error whose properties throw is an ERROR
 * of `_OTHER`.
 */
export function markFailed(span: Span, error: unknown, secrets: readonly string[] = []): void {
  let type = '_OTHER';
  let message: string | undefined;
  try {
    type = errorType(error);
    message = statusMessage(error, secrets);
  } catch {
    // A Proxy or a getter that throws: the failure itself is all there is to say.
  }
  span.setAttribute('error.type', type);
  span.setStatus(
    message === undefined
      ? { code: SpanStatusCode.ERROR }
      : { code: SpanStatusCode.ERROR, message },
  );
}

/** semconv's `error.type`: the error's code where it has one, else its name, else `_OTHER`. */
function errorType(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '_OTHER';
  const { code, name } = error as { code?: unknown; name?: unknown };
  const given = typeof code === 'string' || typeof code === 'number' ? String(code) : name;
  return typeof given === 'string' && given !== ''
    ? cutText(printable(given), MAX_ERROR_TYPE)
    : '_OTHER';
}

/** The error's message (or the rejected string), bounded; undefined where it has none. */
function statusMessage(error: unknown, secrets: readonly string[]): string | undefined {
  const text =
    typeof error === 'string'
      ? error
      : typeof error === 'object' && error !== null
        ? (error as { message?: unknown }).message
        : undefined;
  if (typeof text !== 'string' || text === '') return undefined;
  const cutShort = text.length > READ_AT_MOST;
  const read = knownSecretsMasked(text.slice(0, READ_AT_MOST), secrets, cutShort);
  // A URL the read cut short may have lost the `@` that shows its userinfo: left out whole.
  const masked = read.replace(URL_IN_TEXT, (url: string, at: number) =>
    at + url.length === read.length && cutShort ? '…' : maskUrlText(url),
  );
  return cutText(printable(masked), MAX_STATUS_MESSAGE);
}

/**
 * The read with each secret in it masked. Where the read cut the message short, a secret the cut
 * split no longer matches: the read's end that begins one of them is left out, `…` in its place.
 */
function knownSecretsMasked(read: string, secrets: readonly string[], cutShort: boolean): string {
  if (secrets.length === 0) return read;
  const masked = redactSecrets(read, secrets);
  if (!cutShort) return masked;
  let split = 0;
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, masked.length); n > split; n--) {
      if (masked.endsWith(secret.slice(0, n))) {
        split = n;
        break;
      }
    }
  }
  return split === 0 ? masked : `${masked.slice(0, masked.length - split)}…`;
}
