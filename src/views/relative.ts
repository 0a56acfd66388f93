/**
 * The way back from the page at `pagePath` to the service's root, as a relative reference: `./`
 * for a page one segment deep, `../` for two. A page names every URL from it, so a proxy that
 * serves the service under a prefix (`location /api/ { proxy_pass http://svc/; }`) needs no
 * rewriting: a root-absolute `/predict` went to the proxy's own root. The router is strict
 * about a last slash, so a page's depth is its route's. A `<base>` would do it once per page,
 * but the policy's `base-uri 'none'` stays: an injected one could move every link and form.
 */
export function rootFrom(pagePath: string): string {
  const depth = pagePath.split('/').length - 2;
  return depth <= 0 ? './' : '../'.repeat(depth);
}
