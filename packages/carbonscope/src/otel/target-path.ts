/** A request target's scheme and authority in absolute form: `http://host:9464`. */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/**
 * The path of a request's target, without its query: from origin form (`/metrics?x`) and from
 * absolute form (`http://host:9464/metrics`), which RFC 9112 has a server accept (a client sends
 * it to a proxy). Nothing is decoded or normalized: `/metrics/` and `//metrics` stay other paths.
 * An authority with a user name (`http://u:pw@host/metrics`), an error to RFC 9110 (4.2.4) and a
 * 400 at the service's own /metrics, is left in: no path of it is served.
 */
export function targetPath(target: string | undefined): string {
  const url = target ?? '';
  const authority = ABSOLUTE_FORM.exec(url)?.[0] ?? '';
  const path = authority.includes('@') ? url : url.slice(authority.length);
  return path.split('?')[0] ?? '';
}
