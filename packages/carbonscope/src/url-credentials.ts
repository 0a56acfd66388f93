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
