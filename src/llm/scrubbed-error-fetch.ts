import { redactSecrets } from 'carbonscope';
import { firstCodePoints, wellFormed } from '../http/index.js';

type Fetch = typeof fetch;

/**
 * The most of an error answer's body the OpenAI client reads. Its error's message is the body's
 * (its `error.message`, or the text), which the OpenAI instrumentation records whole as its
 * span's status: no log line's bound applies there. A real error message is far shorter.
 */
export const MAX_ERROR_BODY_CHARS = 8 * 1024;

/**
 * The upstream's answers, each that is no success with its body masked against the secrets (an
 * API that echoes the request's headers returns the key) and cut to MAX_ERROR_BODY_CHARS: the
 * OpenAI client's error, and so the span that records it, never holds the key or megabytes. A
 * body cut short is no longer JSON: the client then takes its text as the message.
 */
export function scrubbedErrorFetch(secrets: readonly string[], inner: Fetch): Fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.ok || !res.body) return res;
    let text: string;
    try {
      text = await maskedStart(res.body, secrets);
    } catch (err) {
      // The body's own failure (over MAX_ANSWER_BYTES, cut), for the client to read as before.
      return new Response(failingBody(err), res);
    }
    // Masked before it is cut: a key the cut split would no longer match.
    const body = firstCodePoints(wellFormed(text), MAX_ERROR_BODY_CHARS);
    const headers = new Headers(res.headers);
    // They described the body as it came, not this one.
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(body, {
      status: res.status,
      statusText: redactSecrets(res.statusText, secrets),
      headers,
    });
  };
}

/**
 * How many UTF-16 units of an error body are read beyond the longest secret's margin: more than
 * MAX_ERROR_BODY_CHARS code points, and room for the `[redacted]` marks a masked key shortens.
 */
const READ_UNITS = 4 * MAX_ERROR_BODY_CHARS;
/** The most units one character of a secret takes as a body may escape it (`\\\\u002f`). */
const ESCAPED_UNITS = 9;

/**
 * The body's start, masked, its rest cancelled: awaiting all of it held the request while an
 * upstream dripped an endless error body (until LLM_TIMEOUT_MS, the error then read as the
 * abort), and held up to MAX_ANSWER_BYTES of it to keep 8 K. Where the read stopped short of the
 * end, the last units a secret could span are dropped once masked: the start of a key the stop
 * cut in two matches no form, and it is all the masked text can end with unmasked.
 */
async function maskedStart(body: ReadableStream<Uint8Array>, secrets: readonly string[]) {
  const margin = ESCAPED_UNITS * Math.max(0, ...secrets.map((secret) => secret.length));
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.length < READ_UNITS + margin) {
    const { done, value } = await reader.read();
    if (done) return redactSecrets(text + decoder.decode(), secrets);
    text += decoder.decode(value, { stream: true });
  }
  // Not awaited: an upstream that stalls may leave the cancel pending, and the answer is read.
  reader.cancel().catch(() => {});
  const masked = redactSecrets(text, secrets);
  return masked.slice(0, masked.length - margin);
}

function failingBody(err: unknown): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error(err) });
}
