import { parseRetryAfter } from 'carbonscope';

type Fetch = typeof fetch;

/** How long an answer asks the client to wait before retrying, from either header the SDK reads. */
function retryWaitMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return Math.max(0, ms);
  return parseRetryAfter(headers.get('retry-after'), Date.now());
}

/**
 * A fetch for the openai client that keeps its retry within the caller's time: the SDK sleeps
 * for whatever Retry-After says (an hour, a date in 2099) before its retry, and that sleep does
 * not watch any signal. An error answer asking for a longer wait than `maxWaitMs` is handed on
 * with `x-should-retry: false` (the SDK then gives up at once) and without the wait headers.
 */
export function boundedRetryFetch(maxWaitMs: number, inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.status < 400) return res;
    const wait = retryWaitMs(res.headers);
    if (wait === undefined || wait <= maxWaitMs) return res;
    const headers = new Headers(res.headers);
    headers.delete('retry-after');
    headers.delete('retry-after-ms');
    headers.set('x-should-retry', 'false');
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
