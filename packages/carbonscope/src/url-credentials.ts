/**
 * The user name and password written into a URL (`https://user:pass@host/`), as written and
 * decoded: whether it has any. What to redact of them is urlSecrets'.
 */
export function credentialsOf(url: string | undefined): string[] {
  const parsed = parsedUrl(url);
  if (!parsed) return [];
  return [parsed.username, parsed.password]
    .filter((part) => part.length > 0)
    .flatMap((part) => [part, percentDecoded(part)]);
}

/**
 * What of a URL's credentials no log line, error or answer may show: the password and the
 * `user:password` pair, as written and decoded, the pair base64-encoded as Node's http sends it
 * (`Authorization: Basic`, which a refusing server may echo), and the user name only as the
 * URL's userinfo (`//user@`, `//user:`). A user name alone is an identity, not a secret; matched
 * everywhere, a short one (`al`) would mask ordinary words ("total") on every line.
 */
export function urlSecrets(url: string | undefined): string[] {
  const parsed = parsedUrl(url);
  if (!parsed || (!parsed.username && !parsed.password)) return [];
  const out = new Set<string>();
  for (const form of [percentDecoded, (part: string) => part]) {
    const user = form(parsed.username);
    const password = form(parsed.password);
    if (password) {
      const pair = `${user}:${password}`;
      out.add(password).add(pair).add(Buffer.from(pair).toString('base64'));
    }
    if (user) out.add(`//${user}@`).add(`//${user}:`);
  }
  return [...out];
}

function parsedUrl(url: string | undefined): URL | undefined {
  if (!url) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * The text percent-decoded, or as written when an escape decodes to nothing (`%zz`, a lone
 * `%E0`): the URL parser keeps such a part, and a throw here would lose the credentials whole.
 */
export function percentDecoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The URL with any user name and password replaced by `[redacted]`, safe to log. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    const bare = parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
    // Put in by hand: as the URL's user name, the brackets would be written `%5B`, `%5D`.
    const scheme = `${parsed.protocol}//`;
    return `${scheme}[redacted]@${bare.slice(scheme.length)}`;
  } catch {
    return url;
  }
}

/**
 * Text meant as a URL, even one that does not parse, with everything before its last `@` (after
 * any `scheme://`) replaced: a password may hold `/`, `@` or spaces, and the scheme may be
 * missing, so hiding too much beats showing it.
 */
export function maskUserinfo(text: string): string {
  return text.replace(/^(.*?\/\/)?.*@/s, '$1[redacted]@');
}
