import Router from '@koa/router';

/**
 * A router that matches a path as sent, its case and its last slash included (the router's
 * default ignores case and takes `/metrics/` for `/metrics`). `/METRICS` or `/metrics/` served
 * as `/metrics` would pass a proxy rule that keeps `/metrics` private (nginx's `location` is
 * case-sensitive, and `location = /metrics` matches that path alone), as `/m%65trics` decoded
 * would; and RFC 3986 (6.2.2.1) folds case only in the scheme and host, never the path. Every
 * router of the app is one of these, nested ones too: each keeps its own matching.
 */
export function pathRouter(): Router {
  return new Router({ sensitive: true, strict: true });
}
