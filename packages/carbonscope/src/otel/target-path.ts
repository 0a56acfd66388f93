/**
 * An absolute-form request target's scheme and authority (RFC 9112 §3.2.2): `http://a/b`, as a
 * client talking to a proxy sends it. The authority (group 1) is everything up to the path, the
 * query or the fragment, so a user name (`a@b`) stays in it to be refused.
 */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)/i;

/** `/` and `*`: an origin-form target (a path) and OPTIONS' asterisk-form. */
const SLASH = 47;
const ASTERISK = 42;

/**
 * An absolute-form target's match of ABSOLUTE_FORM (the scheme and authority, the authority its
 * group 1): undefined for a path or `*` (no absolute form), null for a target that is neither
 * those nor an http(s) URL. The endpoint's and the service's one reading of that form.
 */
export function absoluteForm(url: string): RegExpExecArray | null | undefined {
  const first = url.charCodeAt(0);
  if (first === SLASH || first === ASTERISK) return undefined;
  return ABSOLUTE_FORM.exec(url);
}

/**
 * The path of a request's target, without its query: from origin form (`/metrics?x`) and from
 * absolute form (`http://host:9464/metrics`), which RFC 9112 has a server accept (a client sends
 * it to a proxy). Nothing is decoded or normalized: `/metrics/` and `//metrics` stay other paths.
 * An authority with a user name (`http://u:pw@host/metrics`), an error to RFC 9110 (4.2.4) and a
 * 400 at the service's own /metrics, is left in: no path of it is served.
 */
export function targetPath(target: string | undefined): string {
  const url = target ?? '';
  const match = absoluteForm(url);
  const path = match?.[1]?.includes('@') ? url : url.slice(match?.[0].length ?? 0);
  return path.split('?')[0] ?? '';
}
