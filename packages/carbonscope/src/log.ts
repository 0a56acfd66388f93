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
  const min = RANK[options.level ?? logLevelFrom(process.env.CARBONSCOPE_LOG_LEVEL)];
  const write = redactingWrite(
    options.write ?? ((line: string) => process.stderr.write(line)),
    redactionList(options.secrets ?? []),
  );
  const at = (level: Exclude<LogLevel, 'silent'>): LogFn =>
    ((fields: Record<string, unknown> | string, message?: string) => {
      if (RANK[level] < min) return;
      const text = typeof fields === 'string' ? fields : (message ?? '');
      const tag = level === 'error' ? 'error: ' : level === 'warn' ? 'warning: ' : '';
      const extra =
        options.fields && typeof fields === 'object' && Object.keys(fields).length
          ? ` ${JSON.stringify(fields)}`
          : '';
      write(`carbonscope: ${tag}${text}${extra}\n`);
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
 * a query string or a form carries a key with `/`, `+` or `=`, with uppercase hex escapes (`%2F`,
 * what encodeURIComponent writes) or lowercase ones (`%2f`: the case is free, and an upstream
 * may echo the key so). JSON-escaped (`\"`, `\\`, a control character) up to three times: a
 * JSON log line of an error that embeds a gateway's JSON error that embeds the upstream's JSON
 * body echoing the key. At most 3 × 4 forms a secret; a key of letters, digits and `-_.~` has
 * one, so a line costs what it did.
 */
export function redactionList(secrets: readonly string[]): readonly string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const encoded = percentEncoded(secret);
    for (const written of new Set([secret, encoded, lowercaseEscapes(encoded)])) {
      let form = written;
      forms.add(form);
      for (let level = 0; level < JSON_ESCAPES; level++) {
        form = JSON.stringify(form).slice(1, -1);
        forms.add(form);
      }
    }
  }
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

/** Percent-encoded text with its hex escapes in lowercase: `%2F` → `%2f`; the rest as it is. */
function lowercaseEscapes(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
}

/**
 * Replaces every occurrence of each secret in free text (an upstream body, an error message),
 * the longest first. A caller that redacts often (every log line) orders its list once with
 * longestFirst: then nothing is allocated here unless a secret is found.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of longestFirst(secrets)) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(maskOf(secret));
  }
  return out;
}

// A URL's user name alone, as urlSecrets gives it: `//user@` or `//user:`.
const USERINFO = /^\/\/.+[@:]$/s;

/**
 * What a secret is replaced with: `[redacted]`, but a URL's userinfo keeps its `//` and its
 * delimiter, or `http://al@host` would read `http:[redacted]host`, no longer a URL.
 */
function maskOf(secret: string): string {
  return USERINFO.test(secret) ? `//${REDACTED}${secret.at(-1)}` : REDACTED;
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

/** Reads CARBONSCOPE_LOG_LEVEL leniently: the library never refuses to start over a log level. */
export function logLevelFrom(value: string | undefined, fallback: LogLevel = 'warn'): LogLevel {
  const level = value?.trim().toLowerCase();
  return level && level in RANK ? (level as LogLevel) : fallback;
}
