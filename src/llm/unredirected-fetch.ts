type Fetch = typeof fetch;

/**
 * A fetch that never follows a redirect: the 3xx itself is the answer. Following one would send
 * the conversation to wherever it points, an address the settings never named; fetch drops the
 * Authorization header on a hop to another origin, but not the body.
 */
export function unredirectedFetch(inner: Fetch = fetch): Fetch {
  return (input, init) => inner(input, { ...init, redirect: 'manual' });
}
