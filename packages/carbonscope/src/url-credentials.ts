/** The user name and password written into a URL (`https://user:pass@host/`), decoded. */
export function credentialsOf(url: string | undefined): string[] {
  const parsed = parsedUrl(url);
  if (!parsed) return [];
  return [parsed.username, parsed.password]
    .filter((part) => part.length > 0)
    .flatMap((part) => [part, decoded(part)]);
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
 * The part percent-decoded, or as written when an escape decodes to nothing (`%zz`, a lone
 * `%E0`): the URL parser keeps such a part, and a throw here would lose the credentials whole.
 */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The URL with any user name and password replaced, safe to log. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = 'redacted';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
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
