/** The user name and password written into a URL (`https://user:pass@host/`), decoded. */
export function credentialsOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const { username, password } = new URL(url);
    return [username, password]
      .filter((part) => part.length > 0)
      .flatMap((part) => [part, decodeURIComponent(part)]);
  } catch {
    return [];
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
