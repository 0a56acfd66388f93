type Fetch = typeof fetch;

/**
 * The most an LLM answer may have, as fetch hands it over (decompressed): a completion of the
 * longest outputs models have (~128k tokens, ~0.5 MB of text, ~3 MB JSON-escaped) fits with room
 * to spare; what is larger is no chat completion, and the openai client would hold all of it.
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** An answer larger than the cap; its message is safe to show a client. */
export class OversizedAnswerError extends Error {
  constructor(readonly maxBytes: number) {
    super(
      `the LLM service's answer is over ${maxBytes / (1024 * 1024)} MiB, more than a chat completion has`,
    );
    this.name = 'OversizedAnswerError';
  }
}

/**
 * A fetch for the openai client whose answers fail once their body passes `maxBytes`. The client
 * reads a body whole (`response.json()`, an error's `text()`), so 200 MB of one, or a gzip body
 * of 200 KB that fetch inflates to it, took the service past its memory limit. The body is cut
 * as it streams, and the upstream connection with it.
 */
export function cappedBodyFetch(maxBytes: number, inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (!res.body) return res;
    let bytes = 0;
    const capped = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          if (bytes > maxBytes) controller.error(new OversizedAnswerError(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
