import { parseRetryAfter } from 'carbonscope';

type Fetch = typeof fetch;

/** A wait an answer asks for, and whether it was a date (which the SDK reads on our clock). */
interface Wait {
  ms: number;
  date: boolean;
}

/**
 * How long the SDK will wait before its retry, read as it reads the headers (retry-after-ms
 * where parseFloat gives other than NaN or 0, then Retry-After's parseFloat seconds, then a
 * date), save that a date counts from the answer's Date, the upstream's clock, not from ours.
 * Read any other way, `retry-after-ms: 0` beside a date an hour ahead, or `Retry-After: 3600s`,
 * was a wait that fits, handed on, and the SDK slept the hour.
 */
function retryWait(headers: Headers): Wait | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (ms) return { ms: Math.max(0, ms), date: false };
  const asked = headers.get('retry-after');
  if (!asked) return undefined;
  const seconds = Number.parseFloat(asked);
  if (!Number.isNaN(seconds)) return { ms: Math.max(0, seconds * 1000), date: false };
  const wait = parseRetryAfter(asked, Date.now(), headers.get('date'));
  return wait === undefined ? undefined : { ms: wait, date: true };
}

/** `res` with its wait headers replaced by `set` (the SDK reads retry-after-ms first). */
function withWaitHeaders(res: Response, set: Record<string, string>): Response {
  const headers = new Headers(res.headers);
  headers.delete('retry-after');
  headers.delete('retry-after-ms');
  for (const [name, value] of Object.entries(set)) headers.set(name, value);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/**
 * A fetch for the openai client that keeps its retry within the caller's time: the SDK sleeps
 * for whatever Retry-After says (an hour, a date in 2099) before its retry, and that sleep does
 * not watch any signal. An error answer asking for a longer wait than `maxWaitMs` is handed on
 * with `x-should-retry: false` (the SDK then gives up at once) and without the wait headers.
 * One asking a date that fits is handed on with the wait as `retry-after-ms`: the SDK reads a
 * date against our clock, and with ours an hour behind slept the hour where 1 s was asked.
 * One whose wait cannot be read loses its wait headers. Error answers only: nothing per request.
 */
export function boundedRetryFetch(maxWaitMs: number, inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.status < 400) return res;
    const wait = retryWait(res.headers);
    if (wait === undefined) {
      // None we can read, or none at all: the SDK backs off by its own schedule (8 s at most),
      // not by a date Date.parse reads (it reads `... UTC`, and almost any text, in our zone).
      const asked = res.headers.has('retry-after') || res.headers.has('retry-after-ms');
      return asked ? withWaitHeaders(res, {}) : res;
    }
    if (wait.ms > maxWaitMs) return withWaitHeaders(res, { 'x-should-retry': 'false' });
    return wait.date ? withWaitHeaders(res, { 'retry-after-ms': String(wait.ms) }) : res;
  };
}
