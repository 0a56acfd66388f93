import type { Context } from 'koa';
import { PAGE_STYLE_SOURCE } from '../views/index.js';

/**
 * What a page may load: scripts and styles from this service only (the page's own inline style
 * by its hash), data: images only (the empty favicon), requests to this service only
 * (the dashboard's polls), forms posted here only, no plugins, no <base>, and no framing by
 * another site. Nothing else (frames, workers, fonts, media, manifests): no page uses them.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' ${PAGE_STYLE_SOURCE}`,
  'img-src data:',
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** `text/html`, with or without parameters; a prefix test where type-is parsed the header. */
// Koa 3's response.get() gives undefined for a header not set (a 204, a 304), whatever its
// types say.
function isHtml(contentType: unknown): boolean {
  return typeof contentType === 'string' && contentType.slice(0, 9).toLowerCase() === 'text/html';
}

/**
 * Every answer says its content type is what it declares (nosniff); HTML pages also carry a
 * Content-Security-Policy and refuse to be framed (X-Frame-Options for browsers without CSP).
 * Called after the response is decided, so error pages are covered too.
 */
export function addSecurityHeaders(ctx: Context): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (isHtml(ctx.response.get('Content-Type'))) {
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'same-origin');
  }
}
