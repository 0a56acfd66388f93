/** A request target's scheme and authority in absolute form: `http://host:9464`. */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/**
 * The path of a request's target, without its query: from origin form (`/metrics?x`) and from
 * absolute form (`http://host:9464/metrics`), which RFC 9112 has a server accept (a client sends
 * it to a proxy). Nothing is decoded or normalized: `/metrics/` and `//metrics` stay other paths.
 */
export function targetPath(target: string | undefined): string {
  return (target ?? '').replace(ABSOLUTE_FORM, '').split('?')[0] ?? '';
}
