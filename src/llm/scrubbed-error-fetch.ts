import { redactSecrets } from 'carbonscope';
import { firstCodePoints, wellFormed } from '../http/quote.js';

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
      text = await res.text();
    } catch (err) {
      // The body's own failure (over MAX_ANSWER_BYTES, cut), for the client to read as before.
      return new Response(failingBody(err), res);
    }
    // Masked before it is cut: a key the cut split would no longer match.
    const body = firstCodePoints(wellFormed(redactSecrets(text, secrets)), MAX_ERROR_BODY_CHARS);
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

function failingBody(err: unknown): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error(err) });
}
