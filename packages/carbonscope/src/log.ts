import { printable } from './printable.js';
import { quotedText } from './shown-value.js';

/**
 * The logger the library writes through. pino's Logger fits it as it is; without one, warnings
 * and errors go to stderr as `carbonscope: <message>`, so a host application needs no logger of
 * a particular shape.
 */
export interface LogFn {
  (fields: Record<string, unknown>, message?: string): void;
  (message: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface StderrLoggerOptions {
  level?: LogLevel;
  /** Also print the fields of each line as JSON (the CLI's --verbose). */
  fields?: boolean;
  write?: (line: string) => void;
  /** Values no line may show (an API key, a URL's password): each is written `[redacted]`. */
  secrets?: readonly string[];
}

/** A plain-text logger for stderr: `carbonscope: warning: <message>`. */
export function stderrLogger(options: StderrLoggerOptions = {}): Logger {
  const out = options.write ?? ((line: string) => process.stderr.write(line));
  // Masked before it is escaped, so a secret holding a control character still matches; then
  // one line whose text a terminal shows and never acts on (an upstream's reason phrase may
  // hold `\x1b[2J`, or a `\r\n` and a forged line after it).
  const write = redactingWrite(
    (body) => out(`${printable(body)}\n`),
    redactionList(options.secrets ?? []),
  );
  const min = RANK[options.level ?? envLogLevel(write)];
  const at = (level: Exclude<LogLevel, 'silent'>): LogFn =>
    ((fields: Record<string, unknown> | string, message?: string) => {
      if (RANK[level] < min) return;
      const text = typeof fields === 'string' ? fields : (message ?? '');
      const tag = level === 'error' ? 'error: ' : level === 'warn' ? 'warning: ' : '';
      const extra =
        options.fields && typeof fields === 'object' && Object.keys(fields).length
          ? ` ${JSON.stringify(fields)}`
          : '';
      write(`carbonscope: ${tag}${text}${extra}`);
    }) as LogFn;
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The writer as it is when there is nothing to redact: a line then costs what it did before. */
function redactingWrite(
  write: (line: string) => void,
  secrets: readonly string[],
): (line: string) => void {
  return secrets.length ? (line) => write(redactSecrets(line, secrets)) : write;
}

const REDACTED = '[redacted]';

/**
 * The secrets longest first, as redactSecrets needs them: a user name that begins the password
 * would otherwise leave the password's rest. The list itself when it is in that order already.
 */
export function longestFirst(secrets: readonly string[]): readonly string[] {
  for (let i = 1; i < secrets.length; i++) {
    if (secrets[i].length > secrets[i - 1].length) {
      return [...secrets].sort((a, b) => b.length - a.length);
    }
  }
  return secrets;
}

/** How many times a secret's JSON-escaped forms are escaped again; see redactionList. */
const JSON_ESCAPES = 3;

/**
 * The list a logger redacts each line against, built once when it is created: the secrets
 * longest first, with each form a line may write them in where it differs. Percent-encoded, as
 * a query string or a form carries a key with `/`, `+` or `=` (`%2F`, what encodeURIComponent
 * writes), and so with a space as `+` (what a form and URLSearchParams write: else a value
 * `ab cd-0123` echoed `ab+cd-0123` would lose only the part a shorter form matched).
 * JSON-escaped (`\"`, `\\`, a control character) up to three times: a JSON log line of an
 * error that embeds a gateway's JSON error that embeds the upstream's JSON body echoing the
 * key. Each form also as canonicalEscapes writes it, where that differs, for a line that
 * redactSecrets reads in that form. At most 3 × 4 × 2 forms a secret; a key of letters, digits
 * and `-_.~` has one, so a line costs what it did.
 */
export function redactionList(secrets: readonly string[]): readonly string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const encoded = percentEncoded(secret);
    for (const written of new Set([secret, encoded, encoded.replaceAll('%20', '+')])) {
      let form = written;
      forms.add(form);
      for (let level = 0; level < JSON_ESCAPES; level++) {
        form = JSON.stringify(form).slice(1, -1);
        forms.add(form);
      }
    }
  }
  for (const form of [...forms]) forms.add(canonicalEscapes(form));
  return longestFirst([...forms]);
}

/** The secret percent-encoded, or as it is where it cannot be (a lone surrogate). */
function percentEncoded(secret: string): string {
  try {
    return encodeURIComponent(secret);
  } catch {
    return secret;
  }
}

/**
 * An escape whose case or form the writer chose, where one secret may be written many ways: a
 * percent escape with a lowercase hex digit (RFC 3986 makes the case free: `%2f`, `%2F` and both
 * in one text), one of a character encodeURIComponent leaves as it is but a form encoder escapes
 * (FORM_ESCAPED), or a JSON `\u` escape (which some serializers write for non-ASCII characters,
 * or for every one, in either case) or `\/` (PHP's json_encode writes every `/` so). Listing
 * every mix would take 2^n forms a secret.
 */
const VARIABLE_ESCAPE = /%(?:[a-f][0-9A-Fa-f]|[0-9A-F][a-f]|2[1789A]|7E)|\\u[0-9A-Fa-f]{4}|\\\//;
/** A run of backslashes is read from its first: a pattern that tried each of its ends was quadratic. */
const ESCAPES = /%[0-9A-Fa-f]{2}|(?<!\\)(\\+)(?:u([0-9A-Fa-f]{4})|\/)/g;
/**
 * `!'()*~`: URLSearchParams escapes all of them, Python's quote_plus and Go's QueryEscape all but
 * `~`, Java's URLEncoder all but `*`; encodeURIComponent, whose form redactionList lists, none.
 */
const FORM_ESCAPED = /^%(?:2[1789A]|7E)$/;
/**
 * The backslashes before a `u` or `/` that make it an escape at one to JSON_ESCAPES levels of
 * JSON escaping: `\u00e9`, then `\\u00e9` once that is escaped, then `\\\\u00e9`.
 */
const ESCAPE_RUNS = new Set([1, 2, 4]);

/**
 * The text with its percent escapes uppercase, those of FORM_ESCAPED decoded, and its `\u` and
 * `\/` escapes (at the levels ESCAPE_RUNS names) decoded where JSON would write the character as
 * it is: what a URL, form or JSON parser reads the same. A quote, a backslash, a control
 * character or half a surrogate pair stays escaped.
 */
function canonicalEscapes(text: string): string {
  return text.replace(
    ESCAPES,
    (written: string, run: string | undefined, hex: string | undefined) => {
      if (run === undefined) return percentCanonical(written);
      if (!ESCAPE_RUNS.has(run.length)) return written;
      if (hex === undefined) return '/';
      const code = Number.parseInt(hex, 16);
      const plain = code >= 0x20 && code !== 0x22 && code !== 0x5c;
      return plain && (code < 0xd800 || code > 0xdfff) ? String.fromCharCode(code) : written;
    },
  );
}

/** A percent escape uppercase, or its character where a form encoder alone escapes it. */
function percentCanonical(written: string): string {
  const upper = written.toUpperCase();
  return FORM_ESCAPED.test(upper)
    ? String.fromCharCode(Number.parseInt(upper.slice(1), 16))
    : upper;
}

/**
 * Replaces every occurrence of each secret in free text (an upstream body, an error message),
 * the longest first. A caller that redacts often (every log line) orders its list once with
 * longestFirst: then nothing is allocated here unless a secret is found or the text holds an
 * escape whose case or form varies. Such a text is also read with its escapes canonical
 * (canonicalEscapes), against the canonical forms redactionList adds: where a secret is found
 * so, the text is written in that form, the same to a URL or JSON parser; else as it was.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  // The automaton of many takes them in any order: checking the order cost a pass over them all.
  const ordered = secrets.length > MANY_SECRETS ? secrets : longestFirst(secrets);
  const out = replaceAll(text, ordered);
  // Most lines hold none of them: three scans for one, cheaper than the pattern's.
  if (!out.includes('%') && !out.includes('\\u') && !out.includes('\\/')) return out;
  if (!VARIABLE_ESCAPE.test(out)) return out;
  const canonical = canonicalEscapes(out);
  const redacted = replaceAll(canonical, ordered);
  return redacted === canonical ? out : redacted;
}

/**
 * The text with each occurrence of each secret masked, all found in the text as given: replaced
 * one after another, a longer secret that overlaps a shorter one (a password holding
 * `?token=ab`, the token's value running on past it) would find its part taken and the rest
 * shown. Overlapping occurrences are masked as one.
 */
function replaceAll(text: string, secrets: readonly string[]): string {
  const spans: Span[] = secrets.length > MANY_SECRETS ? matcherOf(secrets).spans(text) : [];
  if (secrets.length <= MANY_SECRETS) {
    for (const secret of secrets) {
      if (secret.length > 0 && text.includes(secret)) addSpans(spans, text, secret);
    }
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start);
  let out = '';
  let shown = 0;
  for (const { start, end } of spans) {
    if (start < shown) {
      // Overlaps the marker just written: extend what it hides.
      shown = Math.max(shown, end);
      continue;
    }
    out += `${text.slice(shown, start)}${REDACTED}`;
    shown = end;
  }
  return out + text.slice(shown);
}

interface Span {
  start: number;
  end: number;
}

/**
 * Adds where the secret occurs in the text, left to right without overlap as split finds it,
 * one by one (a spread of 100 K occurrences overflows the stack): all of it, but of a URL's
 * userinfo (`//al@`) only the user name, which keeps its `//` and its delimiter, or
 * `http://al@host` would read `http:[redacted]host`, no longer a URL.
 */
function addSpans(spans: Span[], text: string, secret: string): void {
  const [head, tail] = USERINFO.test(secret) ? [2, 1] : [0, 0];
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + secret.length)) {
    spans.push({ start: at + head, end: at + secret.length - tail });
  }
}

// A URL's user name alone, as urlSecrets gives it: `//user@` or `//user:`.
const USERINFO = /^\/\/.+[@:]$/s;

/**
 * Past this many forms a line is read once against all of them (Matcher), not once for each: a
 * command line or setting of n characters may make n/20 secrets, and a line quoting it was n²
 * work (160 KB: 9 s). Fewer are looked for one by one, which costs less for the few a URL makes.
 */
const MANY_SECRETS = 256;

/**
 * An Aho-Corasick automaton of a list of secrets: every occurrence of any of them in a text, in
 * one pass. At each end it reports the longest secret taken whole and the longest URL user name
 * (USERINFO, its `//` and delimiter kept): the shorter ones ending there lie inside those.
 */
class Matcher {
  /** The transitions on each UTF-16 code unit, by the state they leave. */
  private readonly next = new Map<number, Map<number, number>>();
  private readonly fail: Int32Array;
  private readonly whole: Int32Array;
  private readonly user: Int32Array;

  constructor(secrets: readonly string[]) {
    const parent = [0];
    const unit = [0];
    const depth = [0];
    const whole = [0];
    const user = [0];
    for (const secret of secrets) {
      let state = 0;
      for (let i = 0; i < secret.length; i++) {
        const code = secret.charCodeAt(i);
        let on = this.next.get(code);
        if (!on) {
          on = new Map();
          this.next.set(code, on);
        }
        let to = on.get(state);
        if (to === undefined) {
          to = parent.length;
          on.set(state, to);
          parent.push(state);
          unit.push(code);
          depth.push(i + 1);
          whole.push(0);
          user.push(0);
        }
        state = to;
      }
      if (secret.length > 0) (USERINFO.test(secret) ? user : whole)[state] = secret.length;
    }
    this.fail = new Int32Array(parent.length);
    this.whole = Int32Array.from(whole);
    this.user = Int32Array.from(user);
    // Shallower states first, so that each one's fail state is done before it.
    const order = [...parent.keys()].sort((a, b) => depth[a] - depth[b]);
    for (const state of order) {
      if (state === 0) continue;
      const fall = parent[state] === 0 ? 0 : this.step(this.fail[parent[state]], unit[state]);
      this.fail[state] = fall;
      this.whole[state] ||= this.whole[fall];
      this.user[state] ||= this.user[fall];
    }
  }

  /** The state after `code` from `state`, falling back along fail links; 0 where none goes on. */
  private step(state: number, code: number): number {
    const on = this.next.get(code);
    if (!on) return 0;
    for (let at = state; ; at = this.fail[at]) {
      const to = on.get(at);
      if (to !== undefined) return to;
      if (at === 0) return 0;
    }
  }

  /** Where the secrets occur in the text, as addSpans gives them, overlapping ones too. */
  spans(text: string): Span[] {
    const out: Span[] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.step(state, text.charCodeAt(i));
      const end = i + 1;
      if (this.whole[state]) out.push({ start: end - this.whole[state], end });
      if (this.user[state]) out.push({ start: end - this.user[state] + 2, end: end - 1 });
    }
    return out;
  }
}

/** Each list's automaton, built once: a logger keeps its list for its life. */
const matchers = new WeakMap<readonly string[], Matcher>();

function matcherOf(secrets: readonly string[]): Matcher {
  let matcher = matchers.get(secrets);
  if (!matcher) {
    matcher = new Matcher(secrets);
    matchers.set(secrets, matcher);
  }
  return matcher;
}

/**
 * The first `max` characters of the text with its secrets redacted. Redacted before it is cut:
 * a secret the cut splits would no longer match and half of it would be kept. A marker the cut
 * would split is kept whole, so the excerpt may run up to one marker's length past `max`.
 */
export function redactedExcerpt(text: string, secrets: readonly string[], max: number): string {
  const redacted = redactSecrets(text, secrets);
  if (redacted.length <= max) return redacted;
  const marker = redacted.lastIndexOf(REDACTED, max - 1);
  const straddles = marker !== -1 && marker + REDACTED.length > max;
  return redacted.slice(0, straddles ? marker + REDACTED.length : max);
}

/** The values of CARBONSCOPE_LOG_LEVEL already told to be unknown: each is told once a process. */
const toldUnknownLevels = new Set<string>();

/**
 * CARBONSCOPE_LOG_LEVEL, leniently (the library never refuses to start over a log level), but
 * a value it does not know is one warning naming the variable: ignored in silence, a typo reads
 * as a setting that took.
 */
function envLogLevel(write: (line: string) => void): LogLevel {
  const raw = process.env.CARBONSCOPE_LOG_LEVEL ?? '';
  const level = logLevelFrom(raw);
  const unknown = raw.trim() !== '' && knownLevel(raw) === undefined;
  if (unknown && !toldUnknownLevels.has(raw)) {
    toldUnknownLevels.add(raw);
    write(
      `carbonscope: warning: CARBONSCOPE_LOG_LEVEL: expected debug, info, warn, error or silent (got ${quotedText(raw, 100)}); ${level} is used`,
    );
  }
  return level;
}

/** Reads CARBONSCOPE_LOG_LEVEL leniently: the library never refuses to start over a log level. */
export function logLevelFrom(value: string | undefined, fallback: LogLevel = 'warn'): LogLevel {
  return knownLevel(value) ?? fallback;
}

/** The level a value names, any case; own keys only: `in` took `constructor` for one. */
function knownLevel(value: string | undefined): LogLevel | undefined {
  const level = value?.trim().toLowerCase();
  return level && Object.hasOwn(RANK, level) ? (level as LogLevel) : undefined;
}
