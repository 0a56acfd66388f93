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
 * everywhere, a short one (`al`) would mask ordinary words ("total") on every line. Its query
 * (`?api_key=...`) and fragment too, which some collectors take a key in: each whole, as the URL
 * writes it, and each value alone where it is long enough to be no ordinary word.
 */
export function urlSecrets(url: string | undefined): string[] {
  const parsed = parsedUrl(url);
  if (!parsed) return [];
  const out = new Set<string>(querySecrets(parsed));
  if (!parsed.username && !parsed.password) return [...out];
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

/** Shorter query values (`v=1`, `format=json`) are no credentials; masked everywhere they'd mangle text. */
const MIN_QUERY_SECRET_LENGTH = 8;

function querySecrets(parsed: URL): string[] {
  const whole = [parsed.search, parsed.hash].filter((part) => part.length > 1);
  const values = [
    ...parsed.search
      .slice(1)
      .split('&')
      .map((pair) => pair.slice(pair.indexOf('=') + 1)),
    parsed.hash.slice(1),
  ];
  const long = values
    .flatMap((value) => [value, percentDecoded(value)])
    .filter((value) => value.length >= MIN_QUERY_SECRET_LENGTH);
  return [...whole, ...long];
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

/**
 * The URL with any user name and password, each query value and the fragment replaced by
 * `[redacted]`, safe to log; the query's parameter names stay, to say which was set.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return maskQuery(url);
    parsed.username = '';
    parsed.password = '';
    const bare = parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
    // Put in by hand: as the URL's user name, the brackets would be written `%5B`, `%5D`.
    const scheme = `${parsed.protocol}//`;
    return maskQuery(`${scheme}[redacted]@${bare.slice(scheme.length)}`);
  } catch {
    return maskUrlText(url);
  }
}

/**
 * Text meant as a URL, even one that does not parse, with everything before its last `@` (after
 * any `scheme://`) replaced: a password may hold `/`, `@` or spaces, and the scheme may be
 * missing, so hiding too much beats showing it.
 */
function maskUserinfo(text: string): string {
  return text.replace(/^(.*?\/\/)?.*@/s, '$1[redacted]@');
}

/**
 * Text meant as a URL, even one that does not parse, with its userinfo (maskUserinfo), each
 * query value and its fragment masked: what an error may quote of a URL it refused.
 */
export function maskUrlText(text: string): string {
  return maskQuery(maskUserinfo(text));
}

/**
 * The text with each value after its first `?` (a part with no `=` whole) and all after its
 * first `#` written `[redacted]`. Found by hand, not by URL: the text may not parse, and URL
 * would write the brackets percent-encoded.
 */
function maskQuery(text: string): string {
  const hash = text.indexOf('#');
  const body = hash === -1 ? text : text.slice(0, hash);
  const rest = hash === -1 ? '' : hash === text.length - 1 ? '#' : '#[redacted]';
  const question = body.indexOf('?');
  if (question === -1) return body + rest;
  const query = body
    .slice(question + 1)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      if (equals === -1) return part === '' ? part : '[redacted]';
      return `${part.slice(0, equals)}=[redacted]`;
    })
    .join('&');
  return `${body.slice(0, question + 1)}${query}${rest}`;
}
