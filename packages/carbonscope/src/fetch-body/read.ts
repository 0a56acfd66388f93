/** A body that passed the most its reader takes. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`body over ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export interface ReadLimits {
  /** The body is refused as soon as it passes this, as fetch hands it over (decompressed). */
  maxBytes: number;
  /** The exchange's signal: the read gives up when it aborts, whatever the stream does. */
  signal: AbortSignal;
}

/**
 * `work`, or the signal's reason once it aborts, whichever comes first. Node 20's fetch can
 * leave a body read unsettled when its signal aborts it while it inflates a gzip body: awaited
 * alone, whatever waited on it (a coalesced lookup, an exporter's one read at a time) waited
 * for good.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * Hands each chunk of `body` to `onChunk` until it ends, never holding it whole. Rejects with
 * BodyTooLargeError once the body passes `maxBytes` (a gzip body of 200 KB can inflate to
 * 200 MB), with the signal's reason once it aborts, and with what `onChunk` throws; the stream
 * is then cancelled.
 */
export async function readChunks(
  body: ReadableStream<Uint8Array> | null,
  limits: ReadLimits,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const reader = body?.getReader();
  if (!reader) return;
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await untilAborted(reader.read(), limits.signal);
      if (done) return;
      bytes += value.byteLength;
      if (bytes > limits.maxBytes) throw new BodyTooLargeError(limits.maxBytes);
      onChunk(value);
    }
  } catch (err) {
    // Not awaited: a read that ignored the abort may ignore the cancel too.
    reader.cancel().catch(() => undefined);
    throw err;
  }
}

/** The whole body as UTF-8 text, read by readChunks: for bodies small enough to hold. */
export async function readText(
  body: ReadableStream<Uint8Array> | null,
  limits: ReadLimits,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  await readChunks(body, limits, (chunk) => chunks.push(chunk));
  return new TextDecoder().decode(Buffer.concat(chunks));
}
