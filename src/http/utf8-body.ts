import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { brotliDecompressSync, unzipSync } from 'node:zlib';

/** What the parser's UTF-8 decoder writes for each byte sequence that is no UTF-8. */
const REPLACEMENT = '\uFFFD';

/**
 * The bytes of a request body as they arrive, kept beside the parser's own reading of them: the
 * parser decodes them as UTF-8 with U+FFFD for what is not, so only the bytes tell a body that
 * was no UTF-8 from one that held U+FFFD itself. `start` after the parser has begun to read (its
 * listener first), `stop` once they are examined, or the parser refused the body (too large).
 */
export class BodyBytes {
  private readonly chunks: Buffer[] = [];
  private req: IncomingMessage | undefined;
  private readonly keep = (chunk: Buffer) => {
    this.chunks.push(chunk);
  };

  start(req: IncomingMessage): void {
    this.req = req;
    req.on('data', this.keep);
  }

  /**
   * Stops keeping the bytes and lets go of those kept: this object lives as long as the request
   * (a chat waits seconds on the LLM), and its bytes, beside the parser's text, would double
   * what each request in flight holds.
   */
  stop(): void {
    this.req?.removeListener('data', this.keep);
    this.req = undefined;
    this.chunks.length = 0;
  }

  /**
   * Whether the body, decoded under its Content-Encoding as the parser decoded it (gzip and
   * deflate by zlib's unzip, which takes both), was no UTF-8, where the parser's text `decoded`
   * shows a U+FFFD; false where it shows none, at no cost but a search of the text.
   */
  notUtf8(decoded: unknown, coding: string | undefined, maxBytes: number): boolean {
    if (typeof decoded !== 'string' || !decoded.includes(REPLACEMENT)) return false;
    const sent = Buffer.concat(this.chunks);
    const options = { maxOutputLength: maxBytes + 1 };
    const body =
      coding === 'gzip' || coding === 'deflate'
        ? unzipSync(sent, options)
        : coding === 'br'
          ? brotliDecompressSync(sent, options)
          : sent;
    return !isUtf8(body);
  }
}
