import type { Context, Middleware } from 'koa';
import { errorBody, markClientCaused } from './text/index.js';

/**
 * The first transfer coding of a Transfer-Encoding value other than `chunked`, as sent, or
 * undefined. Node's parser refuses a list that does not end in one `chunked`; what it lets
 * through (`gzip, chunked`) it de-chunks and decodes no further. Codings are case-insensitive;
 * empty list elements are no codings (RFC 9110 5.6.1).
 */
function otherCoding(transferEncoding: string): string | undefined {
  for (const part of transferEncoding.split(',')) {
    const coding = part.trim();
    if (coding !== '' && coding.toLowerCase() !== 'chunked') return coding;
  }
  return undefined;
}

/**
 * `middleware` for a request whose body comes in no transfer coding or only chunked; 501 for any
 * other (RFC 9112 6.1): the body parser would be handed the coded bytes as the body (gzip as
 * "not JSON"). `identity` is no transfer coding since RFC 7230. `onRefuse` runs first (the app
 * notes the route there, so the refusal is counted under it). Wrapping rather than adding a
 * layer keeps the usual request to one header read (no async frame or promise of its own).
 */
export function understoodTransferCodings(
  onRefuse: (ctx: Context) => void,
  middleware: Middleware,
): Middleware {
  return (ctx, next) => {
    const transferEncoding = ctx.req.headers['transfer-encoding'];
    if (transferEncoding === undefined || transferEncoding === 'chunked') {
      return middleware(ctx, next);
    }
    const coding = otherCoding(transferEncoding);
    if (coding === undefined) return middleware(ctx, next);
    onRefuse(ctx);
    markClientCaused(ctx);
    ctx.status = 501;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = errorBody(
      501,
      `transfer coding ${JSON.stringify(coding.slice(0, 40))} is not implemented: send the body chunked or with a Content-Length, compressed with Content-Encoding if need be`,
    );
  };
}
