import { redactSecrets } from 'carbonscope';
import { firstCodePoints, wellFormed } from '../http/index.js';

type Fetch = typeof fetch;

/**
 * The most code points an answer's naming field keeps (its id, model, fingerprint, a finish
 * reason), as many as a request's model may have: a real one is a few dozen.
 */
export const MAX_UPSTREAM_LABEL = 200;

/** The most choices an answer keeps: the service asks for one, and uses the first. */
export const MAX_ANSWER_CHOICES = 16;

/** The top-level fields of a chat completion that name it, rather than hold its text. */
const LABEL_FIELDS = ['id', 'model', 'system_fingerprint'] as const;

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A naming field as it may be passed on: well-formed, masked, cut (marked …) to the bound. */
function label(value: string, secrets: readonly string[]): string {
  // Masked before it is cut: a key the cut split would no longer match.
  const masked = redactSecrets(wellFormed(value), secrets);
  const cut = firstCodePoints(masked, MAX_UPSTREAM_LABEL);
  return cut.length === masked.length ? masked : `${cut}…`;
}

/**
 * Bounds `holder[key]`: a string as label() makes it, null or absent as it is, anything else
 * (an array, an object: no name) dropped. True when it changed.
 */
function boundField(holder: JsonObject, key: string, secrets: readonly string[]): boolean {
  const value = holder[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'string') {
    delete holder[key];
    return true;
  }
  const bounded = label(value, secrets);
  if (bounded === value) return false;
  holder[key] = bounded;
  return true;
}

/** The answer's text with its naming fields and choices bounded; as it came when nothing was. */
export function boundedAnswer(text: string, secrets: readonly string[]): string {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    // No JSON: the client fails on it as it would have.
    return text;
  }
  if (!isObject(answer)) return text;
  let changed = false;
  for (const key of LABEL_FIELDS) changed = boundField(answer, key, secrets) || changed;
  if (Array.isArray(answer.choices)) {
    if (answer.choices.length > MAX_ANSWER_CHOICES) {
      answer.choices = answer.choices.slice(0, MAX_ANSWER_CHOICES);
      changed = true;
    }
    for (const choice of answer.choices as unknown[]) {
      if (isObject(choice)) changed = boundField(choice, 'finish_reason', secrets) || changed;
    }
  }
  return changed ? JSON.stringify(answer) : text;
}

/**
 * The upstream's successful JSON answers with their naming fields bounded (boundedAnswer). The
 * OpenAI instrumentation sets gen_ai.response.model, .id and .finish_reasons on its span from
 * the object the client parses, and /chat's answer quotes them: an upstream's megabyte `model`,
 * or one echoing the key, went into both. The body is read (through the cap) as it arrives: one
 * over MAX_ANSWER_BYTES fails the client's read with OversizedAnswerError, as before.
 */
export function labelledAnswerFetch(secrets: readonly string[], inner: Fetch): Fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (!res.ok || !res.body || !res.headers.get('content-type')?.includes('json')) return res;
    // The client reads a Content-Length of 0 as no answer, which dropping it would change.
    if (res.headers.get('content-length') === '0') return res;
    const headers = new Headers(res.headers);
    // They described the body as it came, not this one.
    headers.delete('content-length');
    headers.delete('content-encoding');
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          controller.enqueue(new TextEncoder().encode(boundedAnswer(await res.text(), secrets)));
          controller.close();
        } catch (err) {
          controller.error(err);
        }
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}
