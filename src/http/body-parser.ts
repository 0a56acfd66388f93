import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';

/** zlib and brotli name their failures Z_* (Z_DATA_ERROR, Z_BUF_ERROR) and ERR__* / ERR_BROTLI*. */
const DECODING_ERROR = /^(Z_|ERR__|ERR_BROTLI)/;

interface BodyError extends Error {
  status?: number;
  expose?: boolean;
  type?: string;
  code?: string;
}

/**
 * JSON and form bodies up to `limitBytes`, as route middleware: only a route that reads a body
 * runs it, so a write no route takes is the router's 404/405 whatever its body. A failure is the
 * client's, said in its words: a body that is not JSON is 400 `entity.parse.failed`, and a body
 * that does not decompress under its Content-Encoding (zlib answers with no status, which read
 * as a 500 with a stack in the log) is 400 too.
 */
export function parseBodies(limitBytes: number): Middleware {
  return bodyParser({
    enableTypes: ['json', 'form'],
    jsonLimit: limitBytes,
    formLimit: limitBytes,
    onError: (err, ctx) => {
      const error = err as BodyError;
      if (typeof error.code === 'string' && DECODING_ERROR.test(error.code)) {
        const encoding = String(ctx.get('content-encoding')).slice(0, 40);
        const decoding = new Error(
          `request body is not valid ${encoding} data: it does not decompress under its Content-Encoding`,
        ) as BodyError;
        decoding.status = 400;
        decoding.expose = true;
        throw decoding;
      }
      // co-body marks a malformed body only with status 400; name it so the error handler can
      // tell the client what was wrong instead of echoing the parser's message.
      if (error.status === 400) error.type ??= 'entity.parse.failed';
      throw error;
    },
  });
}
