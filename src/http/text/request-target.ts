// A request target's absolute form, read without koa or node:http: the telemetry's ignored paths
// take it at load, before koa is patched (see index.ts).

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
 * An absolute-form target's match of ABSOLUTE_FORM: undefined for a path or `*` (no absolute
 * form), null for a target that is neither those nor an http(s) URL.
 */
export function absoluteForm(url: string): RegExpExecArray | null | undefined {
  const first = url.charCodeAt(0);
  if (first === SLASH || first === ASTERISK) return undefined;
  return ABSOLUTE_FORM.exec(url);
}

/**
 * Where a request target's path begins: 0 for a path (`/metrics`), after the scheme and authority
 * of an absolute-form target (`http://a:3000/metrics`), which Koa's router serves by its path.
 */
export function targetPathStart(url: string): number {
  return absoluteForm(url)?.[0].length ?? 0;
}
