import { maskableSecret, maskableValue } from './secret-length.js';

/**
 * The user name and password written into a URL (`https://user:pass@host/`), as written and
 * decoded: whether it has any. What to redact of them is urlSecrets'. A password whose unescaped
 * `#` or `?` the parser reads as a fragment or query (strayUserinfo) counts too: such a URL
 * would be called at a host named after the user, with the password sent on as its query.
 */
export function credentialsOf(url: string | undefined): string[] {
  const parsed = parsedUrl(url);
  if (!parsed) return [];
  const stray = parsed.username || parsed.password || !url ? undefined : strayUserinfo(url);
  const parts = stray ? [stray.username, stray.password] : [parsed.username, parsed.password];
  return parts.filter((part) => part.length > 0).flatMap((part) => [part, percentDecoded(part)]);
}

/**
 * What of a URL's credentials no log line, error or answer may show: the password and the
 * `user:password` pair, as written and decoded, the pair base64-encoded as Node's http sends it
 * (`Authorization: Basic`, which a refusing server may echo), and the user name only as the
 * URL's userinfo (`//user@`, `//user:`). A user name alone is an identity, not a secret; matched
 * everywhere, a short one (`al`) would mask ordinary words ("total") on every line. Each also as
 * written where the parser drops a tab or line break in it (writtenUserinfo). Of its query,
 * fragment and path (`;token=...`, PATH_PARAMETER; `%3Btoken=...`, DELIMITED_NAME), the values
 * of the parameters whose names say they are credentials (isSecretName: `?api_key=...`), which
 * some collectors take a key in; the others (a tenant, `api-version`) are what tells an operator
 * which endpoint it is, and stay. Of text the parser refuses, the same as its writer meant them
 * (unparsedSecrets): a command line or an error may quote it.
 */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  const parsed = parsedUrl(url);
  if (!parsed) return unparsedSecrets(url);
  const out = new Set<string>(parameterSecrets(url, parsed));
  const hasUserinfo = parsed.username !== '' || parsed.password !== '';
  const stray = hasUserinfo ? undefined : strayUserinfo(url);
  // The parser writes the port apart from the rest (`admin:1234/#pw@host/`): the rest alone too.
  for (const { afterPort } of stray ? [stray, stray.written] : []) {
    out.add(afterPort).add(percentDecoded(afterPort));
  }
  const read = stray ?? parsed;
  const written = stray ? stray.written : hasUserinfo ? writtenUserinfo(url) : undefined;
  for (const userinfo of [read, written ?? read]) addUserinfo(out, userinfo);
  addNestedUserinfo(out, [url, `${parsed.pathname}${parsed.search}${parsed.hash}`]);
  return [...out];
}

/**
 * What urlSecrets masks of text meant as a URL that the parser refuses (a port out of range, a
 * broken IPv6 host), which an error or a command line may quote all the same: its secret
 * parameters and the userinfo its writer meant (unparsedUserinfo).
 */
function unparsedSecrets(text: string): string[] {
  const out = new Set<string>(parameterSecrets(text));
  addUserinfo(out, unparsedUserinfo(text));
  addNestedUserinfo(out, [text]);
  return [...out];
}

/**
 * What urlSecrets masks of the URLs nested in the path, query and fragment of each of the texts
 * (a URL as written and as the parser writes it, nestedRegion): their user names and passwords
 * as written, escapes and all (`u%3APW`), and decoded.
 */
function addNestedUserinfo(out: Set<string>, texts: string[]): void {
  for (const text of texts) {
    const region = nestedRegion(text);
    for (const { start, end } of nestedUserinfos(region.text, region.query)) {
      addWrittenUserinfo(out, region.text.slice(start, end));
    }
  }
}

/**
 * The part of a URL's text that may nest URLs, from its path on (`/redirect/http://u:pw@x/`,
 * `/cb;next=...`, `?next=...`), read as one: a nested password's raw `#` or `?` would split it
 * at a query or fragment (`?next=http://u:pa#ss@idp/`). The text before it is the URL's own
 * scheme and authority; `query` is where the query or fragment starts in it.
 */
function nestedRegion(text: string): { offset: number; text: string; query: number } {
  const start = URL_START.exec(text)?.[0].length ?? 0;
  const authorityEnd = text.slice(start).search(/[/\\?#]/);
  const offset = authorityEnd === -1 ? text.length : start + authorityEnd;
  const region = text.slice(offset);
  const query = region.search(/[?#]/);
  return { offset, text: region, query: query === -1 ? region.length : query };
}

/** A nested URL's userinfo as written (`u%3APW`): whole, and its parts written and decoded. */
function addWrittenUserinfo(out: Set<string>, written: string): void {
  const colon = unitsOf(written).find((unit) => unit.char === ':');
  if (colon) out.add(written);
  for (const [username, password] of [
    colon ? [written.slice(0, colon.start), written.slice(colon.end)] : [written, ''],
    splitAtColon(decodedFully(written)),
  ]) {
    addUserinfo(out, { username, password });
  }
}

function splitAtColon(userinfo: string): [string, string] {
  const colon = userinfo.indexOf(':');
  return colon === -1 ? [userinfo, ''] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
}

/** A character of a text as a reader that decodes it fully reads it, and where it is written. */
interface Unit {
  char: string;
  start: number;
  end: number;
  /** How often it is escaped: 0 written as it is, 1 for `%2F`, 2 for `%252F`. */
  depth: number;
}

/** A percent escape, once or more (`%40`, `%2540`: `%25` is `%`). */
const ESCAPE = /%(?:25)*([\da-f]{2})/iy;

/**
 * The text's characters as a reader that decodes it as often as it holds escapes reads them: an
 * escape is the byte it stands for (a byte of a longer UTF-8 character is no delimiter). A tab
 * or line break written as it is is none: the URL parser drops it (`http:/<TAB>/` is `http://`).
 */
function unitsOf(text: string): Unit[] {
  const out: Unit[] = [];
  for (let i = 0; i < text.length; ) {
    ESCAPE.lastIndex = i;
    // The pattern run at every character cost most of a long path's masking.
    const found = text[i] === '%' ? ESCAPE.exec(text) : null;
    const end = found ? i + found[0].length : i + 1;
    const char = found ? String.fromCharCode(Number.parseInt(found[1], 16)) : text[i];
    const depth = found ? (found[0].length - 3) / 2 + 1 : 0;
    if (found || !'\t\n\r'.includes(char)) out.push({ char, start: i, end, depth });
    i = end;
  }
  return out;
}

const ENCODED_AT = /%(?:25)*40/;

const isSlash = (unit: Unit | undefined) => unit?.char === '/' || unit?.char === '\\';

/**
 * The userinfo of each URL nested in a path's, query's or fragment's text
 * (`?next=http://u:pw@idp/`), raw or percent-encoded (`http%3A%2F%2Fu%3Apw%40idp`), where it
 * starts and where its `@` is: after a `//` or a special scheme's `:` (nestedStart), to the last
 * `@` before the nested authority ends, as a parser reading the value decoded as often as its
 * `//` is finds its end, at a `/`, `\`, `?` or `#` escaped no more often than that
 * (endsNestedAuthority), or at a raw `&` that ends the outer parameter (passwordGoesOn). An `@`
 * that follows no such start (`?to=a@b.c`) or that the nested path holds (`https://idp/@team`)
 * is none. Before `query` (in a path, where `//` is also a sloppy join: `/img//logo@2x.png`),
 * only a `//` after a scheme's `:` or before a userinfo with a password (`/r//u:pw@idp/`)
 * counts. Each character is read at most three times, so the text is read in linear time.
 */
function nestedUserinfos(part: string, query = 0): { start: number; end: number }[] {
  // Most queries hold no `@`, written or encoded: nothing to read character by character.
  if (!part.includes('@') && !ENCODED_AT.test(part)) return [];
  const units = unitsOf(part);
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i + 1 < units.length; i++) {
    const found = nestedStart(units, i);
    if (!found) continue;
    const { from, depth, schemed } = found;
    const { at, end } = nestedUserinfoEnd(part, units, from, depth);
    const urlLike = units[i].start >= query || schemed || hasPassword(units, from, at);
    if (at > from && urlLike) out.push({ start: units[from].start, end: units[at].start });
    i = Math.max(i, end - 1);
  }
  return out;
}

/**
 * Where a nested URL's authority starts if units[i] starts one: a `//` (and any more slashes,
 * which the parser skips), or the `:` of a special scheme (SPECIAL_SCHEMES), after which the
 * parser skips one slash or none as well (`http:u:pw@idp/` is user `u` at host `idp`).
 * `schemed`: a scheme comes before it.
 */
function nestedStart(
  units: Unit[],
  i: number,
): { from: number; depth: number; schemed: boolean } | undefined {
  if (isSlash(units[i]) && isSlash(units[i + 1])) {
    const depth = Math.max(units[i].depth, units[i + 1].depth);
    let from = i + 2;
    while (isSlash(units[from]) && units[from].depth <= depth) from++;
    return { from, depth, schemed: units[i - 1]?.char === ':' };
  }
  if (units[i].char !== ':' || !specialSchemeBefore(units, i)) return undefined;
  // Two slashes or more: the `//` that follows is the start.
  if (isSlash(units[i + 1]) && isSlash(units[i + 2])) return undefined;
  const from = isSlash(units[i + 1]) ? i + 2 : i + 1;
  return { from, depth: units[i].depth, schemed: true };
}

/** The schemes whose URLs the parser reads an authority of with any slashes after `:`, none too. */
const SPECIAL_SCHEMES = ['http', 'https', 'ws', 'wss', 'ftp'];

/**
 * Whether a special scheme's name, not the end of a longer one (`xhttp`), ends before units[i].
 * An escaped tab or line break in it (`ht%09tp:`) is none: decoded, the parser drops it.
 */
function specialSchemeBefore(units: Unit[], i: number): boolean {
  let name = '';
  let j = i - 1;
  for (; j >= 0 && name.length <= LONGEST_SPECIAL_SCHEME; j--) {
    const { char } = units[j];
    if ('\t\n\r'.includes(char)) continue;
    if (!SCHEME_CHAR.test(char)) break;
    name = `${char.toLowerCase()}${name}`;
  }
  return SPECIAL_SCHEMES.includes(name);
}

const SCHEME_CHAR = /^[a-z\d+.-]$/i;
const LONGEST_SPECIAL_SCHEME = 5;

function hasPassword(units: Unit[], from: number, at: number): boolean {
  for (let j = from; j < at; j++) if (units[j].char === ':') return true;
  return false;
}

/**
 * Where the userinfo of a URL nested at `depth` from units[from] ends (`at`, its `@`; -1 where
 * it has none) and where its authority does (`end`), read both as written (escapes deeper than
 * its `//` are data: `u:p%2Fw@idp`) and as a server that decodes the value once more reads it
 * (`http://idp%40x` is user `idp` to it, `http://idp%3Fto%3Da%40b.c` host `idp`): the userinfo
 * either reading finds is masked, to the later `@`. An authority that ends, before any `@`, as
 * `name:` and what can be no port (`u:pa/ss@idp`, `u:pa#ss@idp`, `u:pa&ss@idp`) makes a URL
 * that does not parse: its writer meant a password that goes on, to the last `@`. Digits
 * (`u:1234#ss@idp`) may be a port: a raw `?` or `#` after them is the password's all the same,
 * but a `=` before the `@` says it was a host's port and query (`idp:8443?hint=a@b.c`). Read
 * once, left to right.
 */
function nestedUserinfoEnd(
  part: string,
  units: Unit[],
  from: number,
  depth: number,
): { at: number; end: number } {
  let at = -1;
  let atOnceMore = -1;
  let endedOnceMore = false;
  // Where the last look past a raw `&` stopped, and whether a password went on past it.
  let lookedTo = -1;
  let goesOn = false;
  // The authority's last `:` so far (outside an IPv6 host's brackets), and whether only digits
  // follow it; then, where it ended before any `@` after such a `:`, whether a port's digits did.
  let colon = -1;
  let digits = true;
  let stray: { at: number; port: boolean } | undefined;
  let j = from;
  for (; j < units.length; j++) {
    const unit = units[j];
    const ends = endsNestedAuthority(unit, depth) || part[unit.start] === '&';
    if (ends && !stray && at === -1 && colon !== -1) {
      const port: boolean = digits && j > colon + 1;
      if (!port || '?#'.includes(unit.char)) stray = { at: j, port };
    }
    if (stray && !stray.port) {
      if (unit.char === '@' && unit.depth <= depth + 1) at = j;
      continue;
    }
    if (endsNestedAuthority(unit, depth) && j !== stray?.at) break;
    if (stray?.port && unit.char === '=') return { at: -1, end: stray.at };
    if (part[unit.start] === '&') {
      if (j > lookedTo) ({ to: lookedTo, goesOn } = passwordGoesOn(units, j + 1, depth));
      if (!goesOn) break;
    }
    if (unit.char === ':') [colon, digits] = [j, true];
    else if (unit.char === ']') colon = -1;
    else digits &&= unit.char >= '0' && unit.char <= '9';
    endedOnceMore ||= endsNestedAuthority(unit, depth + 1);
    if (unit.char !== '@') continue;
    if (unit.depth <= depth) at = j;
    if (!endedOnceMore && unit.depth <= depth + 1) atOnceMore = j;
  }
  return { at: Math.max(at, atOnceMore), end: j };
}

/**
 * Whether the unit ends the authority of a URL nested at `depth` (its `//`'s escapes). One
 * escaped more often is the nested URL's own data (`u:p%2Fw@idp`, `u%3Ap%252Fw%40idp`): ended
 * there, the rest of its password was shown.
 */
function endsNestedAuthority(unit: Unit, depth: number): boolean {
  return '/\\?#'.includes(unit.char) && unit.depth <= depth;
}

/**
 * Whether a raw `&` (before units[from]) is a nested password's, which RFC 3986 lets a userinfo
 * hold (`?next=http://u:p&w@idp/`), and where the look stopped: it is where an `@` comes before
 * any `=` and the authority's end; else it ends the outer parameter (`http://idp&cc=a@b.c`).
 * Each `&` up to where it stopped has the same answer, so the text is read once.
 */
function passwordGoesOn(
  units: Unit[],
  from: number,
  depth: number,
): { to: number; goesOn: boolean } {
  let j = from;
  for (; j < units.length && !endsNestedAuthority(units[j], depth); j++) {
    if (units[j].char === '@') return { to: j, goesOn: true };
    if (units[j].char === '=') break;
  }
  return { to: j, goesOn: false };
}

/** A `scheme:` and the slashes after it, or a leading `//`, blanks before: a URL's start. */
const URL_START = /^\s*(?:[a-z][a-z\d+.-]*:[/\\]*|[/\\]{2,})/i;

/**
 * The user name and password of text meant as a URL that does not parse, as maskUserinfo cuts
 * them: after its start (URL_START) to the end of its userinfo (userinfoEnd). Only text that
 * starts as a URL: a bare `name@host` or `12:30@home` is more likely no URL at all.
 */
function unparsedUserinfo(text: string): Userinfo | undefined {
  const start = URL_START.exec(text)?.[0].length;
  const end = userinfoEnd(text);
  if (start === undefined || end < start) return undefined;
  const userinfo = text.slice(start, end);
  const colon = userinfo.indexOf(':');
  if (colon === -1) return { username: userinfo, password: '' };
  return { username: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) };
}

interface Userinfo {
  username: string;
  password: string;
}

/**
 * A user name alone shorter than this has no base64 masked (`al:` is `YWw6`, which could be any
 * base64's part). A password is masked alone from MIN_MASKED_SECRET_LENGTH on, and always with
 * its user (`u:pw`, and so in its URL).
 */
const MIN_BASE64_USER_LENGTH = 3;

/**
 * What urlSecrets masks of a user name and password, in the forms each may be written. Node's
 * http sends both decoded as `Authorization: Basic` of `user:password`, a user name alone as
 * `user:` (a token as user name, `https://ghp_...@host/`): that base64 too, but not of a short
 * name. A user name whose `:` is escaped (`u%3APW`) is split there by the server reading the
 * header: what follows is a password.
 */
function addUserinfo(out: Set<string>, userinfo: Userinfo | undefined): void {
  if (!userinfo || (!userinfo.username && !userinfo.password)) return;
  for (const form of [percentDecoded, (part: string) => part]) {
    const user = form(userinfo.username);
    const password = form(userinfo.password);
    const pair = `${user}:${password}`;
    // Of a user name of a letter or two, the base64 (`YWw6`) could be any base64's part.
    if (password || user.length >= MIN_BASE64_USER_LENGTH) {
      out.add(Buffer.from(pair).toString('base64'));
    }
    if (password) {
      if (maskableSecret(password)) out.add(password);
      out.add(pair);
    }
    if (user) out.add(`//${user}@`).add(`//${user}:`);
  }
  const decodedUser = percentDecoded(userinfo.username);
  const colon = decodedUser.indexOf(':');
  if (colon === -1) return;
  const rest = decodedUser.slice(colon + 1);
  if (maskableSecret(rest)) out.add(rest);
  out.add(decodedUser);
}

/**
 * The secret parameters' values of the query, the fragment and the path's segments (matrix
 * parameters, `/v1;token=...`), as the URL was written and as the parser writes it (it escapes a
 * space, a quote): each value written, decoded and form-decoded (a `+` read as a space, as a
 * form decoder reads a query) where it is long enough, else the `name=value` pair in the same
 * forms.
 */
function parameterSecrets(written: string, parsed?: URL): string[] {
  const out: string[] = [];
  const reparsed = parsed ? [`${parsed.pathname}${parsed.search}${parsed.hash}`] : [];
  const parameters = [
    ...[written, ...(parsed ? [`${parsed.search}${parsed.hash}`] : [])].flatMap(parametersOf),
    ...[splitUrlText(written).body, ...(parsed ? [parsed.pathname] : [])].flatMap(pathParametersOf),
    ...[written, ...reparsed].flatMap(delimitedParametersOf),
  ];
  for (const { name, value, equals = '=' } of parameters) {
    if (value === '' || !isSecretName(name)) continue;
    for (const [n, v, eq] of [
      [name, value, equals],
      [percentDecoded(name), percentDecoded(value), '='],
      [decodedFully(name), decodedFully(value), '='],
      [formDecoded(name), formDecoded(value), '='],
    ]) {
      // A short value, maybe no secret (`session=7`), alone would mangle ordinary text.
      out.push(...(maskableValue(v) ? [v] : [`${n}${eq}${v}`]));
    }
  }
  return out;
}

/** A query's part as a form decoder reads it (URLSearchParams, most servers): `+` is a space. */
function formDecoded(part: string): string {
  return percentDecoded(part.replaceAll('+', ' '));
}

interface Parameter {
  name: string;
  value: string;
  /** The `=` as written, where it is percent-encoded (`%3D`). */
  equals?: string;
}

/**
 * The `name=value` parameters of a text's query (after its first `?`) and fragment (`#`): each
 * between `&`s, and each between `&`s and `;`s too (`a=1;token=X`), which some servers (Go before
 * 1.17, Rack 2, Python before 3.9.2) take as a separator: a server that does not reads the
 * value of `a` as `1;token=X`, and one that does reads `token`'s as `X`.
 */
function parametersOf(text: string): Parameter[] {
  const { query, fragment } = splitUrlText(text);
  return [query, fragment].flatMap((part) =>
    part === undefined
      ? []
      : part
          .split('&')
          .flatMap((pair) => [
            ...parameterOf(pair),
            ...(pair.includes(';') ? pair.split(';').flatMap(parameterOf) : []),
          ]),
  );
}

/**
 * A `;name=value` in a path segment, to the next `;` or the segment's end: a matrix parameter,
 * which servlet containers (`;jsessionid=`) and Spring read. The parser counts a `\` as a `/`.
 */
const PATH_PARAMETER = /;([^;/\\=]*)=([^;/\\]*)/g;

/** The matrix parameters (PATH_PARAMETER) of the text before a URL's query and fragment. */
function pathParametersOf(body: string): Parameter[] {
  return [...body.matchAll(PATH_PARAMETER)].map(([, name = '', value = '']) => ({ name, value }));
}

/** `;`, `&`, `?` or `#` percent-encoded once or more (`%3B`, `%253b`: `%25` is `%`). */
const ENCODED_DELIMITER = '%(?:25)*(?:3B|26|3F|23)';

/**
 * A parameter's start as a reader that decodes the text first finds it: a delimiter, raw or
 * percent-encoded (ENCODED_DELIMITER), a name and an `=`, raw or encoded. `/v1%3Btoken=X` is
 * `/v1;token=X`, a matrix parameter, behind a proxy that decodes the path before passing it on
 * (nginx, proxy_pass with a URI), `%3F` a query's start to Apache's mod_rewrite, and in a query
 * value they, `%26` and `%23` are a nested URL's (`?next=https%3A%2F%2Fidp%2Fcb%3Ftoken%3DX`),
 * called once decoded; a raw `?` in a query starts one written unencoded
 * (`?next=https://idp/cb?token=X`), and a raw `#` in a fragment one's fragment (an identity
 * provider appends `#access_token=X` to a redirect URI with a hash route, `/#/cb`). Whatever
 * the writer meant, only a name that says it is a secret (isSecretName) makes the value one:
 * other path text stays as written. The name stops at any delimiter, raw or encoded, so the
 * text is read once.
 */
const DELIMITED_NAME = new RegExp(
  `([;&?#]|${ENCODED_DELIMITER})((?:[^=;&?#/\\\\%]|%(?!(?:25)*(?:3B|26|3F|23|3D)))*)(=|%(?:25)*3D)`,
  'gi',
);

/**
 * Where a delimited parameter's value ends, as written: at the end of its path segment (`/`,
 * `\`) or query parameter (`&`). Where the decoding reader splits it further is not known
 * (`%3Btoken=X%3Bv=2`), and masking more beats masking less.
 */
const SEGMENT_END = /[/\\]/g;
const PAIR_END = /&/g;
/** Where a delimited parameter's value ends for a reader that splits at every delimiter. */
const NEXT_DELIMITER = new RegExp(`[;&?#/\\\\]|${ENCODED_DELIMITER}`, 'gi');

interface DelimitedParameter extends Parameter {
  /** Where its value starts and, to the end of its segment or pair, ends. */
  start: number;
  end: number;
}

/**
 * The secret-named parameters (isSecretName) of a part of a URL's text (its path, query or
 * fragment) that DELIMITED_NAME finds, but those whose `;` or `&` and `=` are both raw, which
 * PATH_PARAMETER and parametersOf read. Each value runs to `ends` (SEGMENT_END, PAIR_END).
 */
function delimitedParameters(part: string, ends: RegExp): DelimitedParameter[] {
  const out: DelimitedParameter[] = [];
  const names = new RegExp(DELIMITED_NAME);
  for (let match = names.exec(part); match; match = names.exec(part)) {
    const [whole, delimiter = '', name = '', equals = ''] = match;
    const start = match.index + whole.length;
    if ((delimiter === ';' || delimiter === '&') && equals === '=') continue;
    if (!isSecretName(name)) continue;
    const end = nextIndex(part, ends, start);
    out.push({ name, equals, value: part.slice(start, end), start, end });
    names.lastIndex = end;
  }
  return out;
}

/** Where `pattern` (global) next matches in the text from `from`, else the text's end. */
function nextIndex(text: string, pattern: RegExp, from: number): number {
  const search = new RegExp(pattern);
  search.lastIndex = from;
  return search.exec(text)?.index ?? text.length;
}

/**
 * The delimited parameters of a URL's text (delimitedParameters), each value to the end of its
 * segment or pair and, for free text, to the next delimiter too (`X` of `%3Btoken=X%3Bv=2`).
 */
function delimitedParametersOf(text: string): Parameter[] {
  const { body, query, fragment } = splitUrlText(text);
  const found = [
    ...delimitedParameters(body, SEGMENT_END),
    ...[query, fragment].flatMap((part) =>
      part === undefined ? [] : delimitedParameters(part, PAIR_END),
    ),
  ];
  return found.flatMap((parameter) => {
    const tight = parameter.value.slice(0, nextIndex(parameter.value, NEXT_DELIMITER, 0));
    return [parameter, { ...parameter, value: tight }];
  });
}

function parameterOf(pair: string): Parameter[] {
  const equals = pair.indexOf('=');
  return equals === -1 ? [] : [{ name: pair.slice(0, equals), value: pair.slice(equals + 1) }];
}

/** A text's part before its query, its query (after the first `?`) and its fragment (`#`). */
function splitUrlText(text: string): { body: string; query?: string; fragment?: string } {
  const hash = text.indexOf('#');
  const beforeHash = hash === -1 ? text : text.slice(0, hash);
  const fragment = hash === -1 ? undefined : text.slice(hash + 1);
  const question = beforeHash.indexOf('?');
  if (question === -1) return { body: beforeHash, fragment };
  return { body: beforeHash.slice(0, question), query: beforeHash.slice(question + 1), fragment };
}

/**
 * Words that make a parameter's name a credential's: `token` (access_token, id_token), `key`
 * (api_key, apikey, subscription-key), `secret`, `pass` (password, passwd), `pwd`, `auth`,
 * `signature`, `credential`, `session`, `jwt`, `bearer`. Matched anywhere in the name: a name
 * that holds one by chance (`keyword`) costs a masked value, a missed one a leaked key.
 */
const SECRET_WORDS = /token|key|secret|pass|pwd|auth|signature|credential|session|jwt|bearer/;
/**
 * Names too common to look for inside others: Azure's SAS signature, `sig`, and `code`, an Azure
 * Functions function key (`/api/f?code=...`, which `carbonscope run -- curl` may be given) or an
 * OAuth authorization code.
 */
const SECRET_NAMES: ReadonlySet<string> = new Set(['sig', 'code']);
/** Presigned URLs' parameters (S3, GCS), whose credential and signature go together. */
const SECRET_PREFIXES = ['x-amz-', 'x-goog-'];

/**
 * Whether a name says its value is a credential: a query or fragment parameter's, in any case and
 * percent-encoded or not (`%74oken` is `token` to the server), a tab or line break in it or not,
 * or a setting's (`LLM_API_KEY`).
 */
export function isSecretName(name: string): boolean {
  // The URL parser drops a tab or line break anywhere: `to<TAB>ken=` goes out as `token=`.
  const plain = decodedFully(name.replace(/[\t\n\r]/g, ''))
    .trim()
    .toLowerCase();
  return (
    SECRET_WORDS.test(plain) ||
    SECRET_NAMES.has(plain) ||
    SECRET_PREFIXES.some((prefix) => plain.startsWith(prefix))
  );
}

/**
 * An authority as written that ends `:` or `:digits` right before a `?` or `#`, with an `@`
 * after: the userinfo of `https://admin:#pw@host/`, whose unescaped `#` ends the authority for
 * the parser (host `admin`, fragment `#pw@host/`; digits before it read as a port). Past blanks
 * before the scheme and any run of `/` and `\` after it, which the parser skips as well
 * (`http:///admin:#pw@host/` is host `admin` to it, and passes z.url).
 */
const STRAY_USERINFO = /^\s*[a-z][a-z\d+.-]*:[/\\]*([^/\\?#@]*?):(\d*)([?#].*)@/dis;

/**
 * The user name and password a URL's writer meant where the parser found none: a password's
 * unescaped `#` or `?` (STRAY_USERINFO) leaves it in the fragment or query, shown as written.
 * Taken to the end maskUserinfo hides (userinfoEnd): an e-mail address in the query of a URL
 * with no path (`http://host:4318?mail=a@b`) is no password.
 */
function strayUserinfo(url: string): StrayUserinfo | undefined {
  // Read as the parser reads it, which drops every tab and line break first.
  const read = readAsParsed(url);
  const match = STRAY_USERINFO.exec(read.text.slice(0, userinfoEnd(read.text) + 1));
  if (!match?.indices) return undefined;
  const [, user = [0, 0], port = [0, 0], rest = [0, 0]] = match.indices;
  const forms = (slice: (start: number, end: number) => string): StrayParts => ({
    username: slice(...user),
    password: slice(port[0], rest[1]),
    afterPort: slice(...rest),
  });
  return { ...forms((start, end) => read.text.slice(start, end)), written: forms(read.written) };
}

interface StrayParts extends Userinfo {
  /** The password from its `?` or `#` on, past what the parser took for a port. */
  afterPort: string;
}

interface StrayUserinfo extends StrayParts {
  /** The same parts as written, tabs and line breaks in them kept. */
  written: StrayParts;
}

/**
 * The userinfo of a URL that has one (`scheme://user:password@`), taken to the authority's last
 * `@`, as the parser reads it once it has dropped every tab and line break.
 */
const USERINFO = /^[\0- ]*[a-z][a-z\d+.-]*:[/\\]*(([^/\\?#:]*):?([^/\\?#]*))@/dis;

/**
 * The user name and password of a URL that has them (parsed), as written: the parser drops a tab
 * or line break (`http://user:pa<TAB>ss@host/` sends `user:pass`), and a line that quotes the
 * URL as it was given holds it still. Undefined where the URL has none of those characters.
 */
function writtenUserinfo(url: string): Userinfo | undefined {
  if (!/[\t\n\r]/.test(url)) return undefined;
  const read = readAsParsed(url);
  const [, , user, password] = USERINFO.exec(read.text)?.indices ?? [];
  if (!user || !password) return undefined;
  return { username: read.written(...user), password: read.written(...password) };
}

/**
 * The URL without its tabs and line breaks, as the parser reads it, and `written`, which gives
 * a part of that text (from `start` to `end`) as it was written, with those characters kept.
 */
function readAsParsed(url: string): {
  text: string;
  written: (start: number, end: number) => string;
} {
  const at: number[] = [];
  for (let i = 0; i < url.length; i++) if (!'\t\n\r'.includes(url[i])) at.push(i);
  const text = at.map((i) => url[i]).join('');
  return {
    text,
    written: (start, end) => (start >= end ? '' : url.slice(at[start], at[end - 1] + 1)),
  };
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
 * The text percent-decoded as often as it holds escapes, up to MAX_DECODINGS times: a nested
 * URL's `token` may be written `%2574oken` in a query value. Bounded, as each round reads the
 * whole text: `%252525...` would take one round per `25`.
 */
function decodedFully(part: string): string {
  let out = part;
  for (let round = 0; round < MAX_DECODINGS && out.includes('%'); round++) {
    const decoded = percentDecoded(out);
    if (decoded === out) break;
    out = decoded;
  }
  return out;
}

const MAX_DECODINGS = 4;

/**
 * The URL with any user name and password and the value of each secret parameter (isSecretName,
 * in the query, the fragment or the path) replaced by `[redacted]`, safe to log; the rest stays
 * as written.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) {
      return strayUserinfo(url) ? maskUrlText(url) : maskQuery(url);
    }
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
 * Text meant as a URL, even one that does not parse, with everything before the end of its
 * userinfo (its last `@` but one in the query that joins an e-mail address, userinfoEnd; after a
 * leading `scheme://` or `//`) replaced: a password may hold `/`, `@` or spaces, and the scheme
 * may be missing, so hiding too much beats showing it. Only a scheme is kept before the cut: a
 * `//` further on (a path's, a redirect's `http://`) may follow the pair. Text with no `:`, `/`,
 * `\`, `.` or `%` is kept: it has no scheme, port, path or domain, and no password, which only
 * follows a `:`, written or escaped (`US@CAL`, mistyped for a zone, is shown as typed). Found
 * by index, not by a pattern that backtracks: a value of many `//` took seconds.
 */
function maskUserinfo(text: string): { shown: string; rest?: string } {
  if (!/[:/\\.%]/.test(text)) return { shown: text };
  const at = userinfoEnd(text);
  if (at === -1 || noUserinfoAt(text, at)) return { shown: text };
  const scheme = LEADING_SCHEME.exec(text)?.[0] ?? '';
  return { shown: `${scheme.length <= at ? scheme : ''}[redacted]@`, rest: text.slice(at + 1) };
}

/**
 * Whether the `@` at `at` of a URL with a scheme (`https://`) is past an authority that can hold
 * no password, and ends no userinfo of it: the authority, to its first `/`, `\`, `?` or `#`,
 * holds no `:` or `@` (raw or encoded), and either no `:` (raw or encoded) comes between it and
 * the `@`, which then follows a path, not a user's password (`https://app/u/@alice`, sent so as
 * the parser reads it, and so shown by withoutCredentials), or the `@` ends the userinfo of a URL
 * nested in the path or query (`?next=http://u:pw@idp/`), which maskQuery masks itself. Without
 * a scheme (`pa/SECRET@collector`), what precedes the `@` may be a token's.
 */
function noUserinfoAt(text: string, at: number): boolean {
  const scheme = LEADING_SCHEME.exec(text)?.[0];
  if (!scheme?.includes(':')) return false;
  const region = nestedRegion(text);
  const authority = text.slice(scheme.length, region.offset);
  if (region.offset >= at || /[:@]|%(?:25)*(?:3A|40)/i.test(authority)) return false;
  const between = text.slice(region.offset, at);
  if (!/:|%(?:25)*3A/i.test(between)) return true;
  const nestedAt = at - region.offset;
  return nestedUserinfos(region.text, region.query).some(({ end }) => end === nestedAt);
}

/**
 * Where the userinfo of text meant as a URL ends, -1 where it has none: at its last `@`, for a
 * password may hold `/`, `?`, `#` or `@` unescaped. But RFC 3986 ends the authority at the first
 * `?` or `#`, and an `@` after it that joins an e-mail address in a parameter's value
 * (MAILED_PARAMETER: `?mail=ops@acme.example`) is the query's: the userinfo then ends at the last
 * `@` of another kind (`?next=http://u:pw@x`), or else at the last `@` before the `?` or `#`.
 * A `?` or `#` right after a `:` is a password's all the same: no URL has an empty port before
 * its query (`http://user:?pa=ss@host`), nor one whose port is not digits (`http://user:pa?ss=w@h`,
 * noPortBefore). What is shown so may be a password that begins with digits and a `?` or `#`
 * and holds an `=`, before a bare host (`http://user:12?pa=ss@host`), which reads exactly as the
 * query of `http://host:4318?mail=a@b` does. Read once, pair by pair.
 */
function userinfoEnd(text: string): number {
  const at = text.lastIndexOf('@');
  const query = text.search(/[?#]/);
  if (query === -1 || at < query || text.charAt(query - 1) === ':') return at;
  if (noPortBefore(text, query)) return at;
  let end = -1;
  let start = query + 1;
  for (let i = start; i <= text.length; i++) {
    if (i < text.length && !'&;?#'.includes(text.charAt(i))) continue;
    const pair = text.slice(start, i);
    if (pair.includes('@') && !MAILED_PARAMETER.test(pair)) end = start + pair.lastIndexOf('@');
    start = i + 1;
  }
  return end !== -1 ? end : text.lastIndexOf('@', query);
}

/**
 * Whether the authority the text's `?` or `#` (at `query`) ends, after its scheme and slashes
 * (URL_START), is `name:` and what cannot be a port (`admin:pa`): then no host precedes the
 * query, and the `:` is a password's. An IPv6 host's colons are inside its brackets.
 */
function noPortBefore(text: string, query: number): boolean {
  const start = URL_START.exec(text)?.[0].length ?? 0;
  const authority = text.slice(start, query);
  if (/[/\\@]/.test(authority)) return false;
  const colon = authority.lastIndexOf(':');
  return colon > authority.lastIndexOf(']') && !/^\d*$/.test(authority.slice(colon + 1));
}

/**
 * A query's `name=local@domain`: an e-mail address, no `:`, `/` or `\` in it, which a URL's
 * userinfo and host would have (`http://u:pw@x`, `@host:4318/v1`).
 */
const MAILED_PARAMETER = /^[^=@]*=[^:/\\=@]*@[^:/\\=@]+$/;

/** A `scheme://` (or the `//` of a scheme-relative URL) that begins the text, blanks before. */
const LEADING_SCHEME = /^\s*(?:[a-z][a-z\d+.-]*:)?\/\//i;

/**
 * Text meant as a URL, even one that does not parse, with its userinfo (maskUserinfo) and its
 * secret parameters' values masked: what an error may quote of a URL it refused.
 */
export function maskUrlText(text: string): string {
  const { shown, rest } = maskUserinfo(text);
  if (rest === undefined) return maskQuery(shown);
  const masked = maskQuery(rest);
  const query = text.search(/[?#]/);
  if (query === -1 || query >= text.length - rest.length) return `${shown}${masked}`;
  // Cut at an `@` after a `?` or `#` (`?next=http://a@b&token=X`), what follows up to its own
  // `?` or `#` is a host and path, or the query's rest with no `?` left before it: read as both.
  const end = masked.search(/[?#]/);
  const head = end === -1 ? masked : masked.slice(0, end);
  return `${shown}${maskQuery(`?${head}`).slice(1)}${masked.slice(head.length)}`;
}

/**
 * The text with the value of each secret parameter (isSecretName) of its query (after its
 * first `?`), fragment (after its first `#`) and path (`;name=value`, PATH_PARAMETER) written
 * `[redacted]`. Found by hand, not by URL: the text may not parse, and URL would write the
 * brackets percent-encoded.
 */
function maskQuery(text: string): string {
  const { body, query, fragment } = splitUrlText(maskNestedUserinfo(text));
  const shownBody = maskDelimited(
    body.replace(PATH_PARAMETER, (written, name: string) =>
      isSecretName(name) ? `;${name}=[redacted]` : written,
    ),
    SEGMENT_END,
  );
  const shown = (part: string) => maskDelimited(maskParameters(part), PAIR_END);
  const shownQuery = query === undefined ? '' : `?${shown(query)}`;
  const shownFragment = fragment === undefined ? '' : `#${shown(fragment)}`;
  return `${shownBody}${shownQuery}${shownFragment}`;
}

/**
 * A URL's text with the userinfo of each URL nested in its path, query or fragment masked
 * (nestedRegion), before either is split: a nested password's raw `#` or `?` would split it.
 */
function maskNestedUserinfo(text: string): string {
  const region = nestedRegion(text);
  let out = text.slice(0, region.offset);
  let from = 0;
  for (const { start, end } of nestedUserinfos(region.text, region.query)) {
    out += `${region.text.slice(from, start)}[redacted]`;
    from = end;
  }
  return out + region.text.slice(from);
}

/** A part of a URL's text with its delimited parameters' values masked (delimitedParameters). */
function maskDelimited(part: string, ends: RegExp): string {
  let out = '';
  let from = 0;
  for (const { start, end } of delimitedParameters(part, ends)) {
    out += `${part.slice(from, start)}[redacted]`;
    from = end;
  }
  return out + part.slice(from);
}

/**
 * A query's or fragment's secret values masked: a secret parameter's to the next `&`, any `;`
 * with it, and else, between `;`s, one's that a server splitting there would read (parametersOf).
 */
function maskParameters(part: string): string {
  return part
    .split('&')
    .map((pair) => {
      if (secretName(pair) !== undefined || !pair.includes(';')) return maskedPair(pair);
      return pair.split(';').map(maskedPair).join(';');
    })
    .join('&');
}

function maskedPair(pair: string): string {
  const name = secretName(pair);
  return name === undefined ? pair : `${name}=[redacted]`;
}

/** The name of a `name=value` pair where it says the value is a secret (isSecretName). */
function secretName(pair: string): string | undefined {
  const [parameter] = parameterOf(pair);
  return parameter && isSecretName(parameter.name) ? parameter.name : undefined;
}
