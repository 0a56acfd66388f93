import { parseRetryAfter } from 'carbonscope';

type Fetch = typeof fetch;

/** How long an answer asks the client to wait before retrying, from either header the SDK reads. */
function retryWaitMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return Math.max(0, ms);
  // A date is on the upstream's clock, as its Date is: ours may be stepped or off.
  return parseRetryAfter(headers.get('retry-after'), Date.now(), headers.get('date'));
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
 */
export function boundedRetryFetch(maxWaitMs: number, inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.status < 400) return res;
    const wait = retryWaitMs(res.headers);
    if (wait === undefined) return res;
    if (wait > maxWaitMs) return withWaitHeaders(res, { 'x-should-retry': 'false' });
    const asked = res.headers.get('retry-after');
    if (res.headers.has('retry-after-ms') || asked === null || Number.isFinite(Number(asked))) {
      return res;
    }
    return withWaitHeaders(res, { 'retry-after-ms': String(wait) });
  };
}
