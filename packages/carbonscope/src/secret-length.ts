/**
 * The shortest secret by what it is (the grid's API key, LLM_API_KEY, a URL's password) masked
 * wherever it shows in a line. Secrets never reach a log, so from 3 characters such a value is
 * masked alone. One of 1 or 2 is not: masked so, a key `k` would take every `k` of a line
 * (`"[redacted]ind":"networ[redacted]"`), and the holes it punched would show it anyway. Such a
 * password is masked with its user (`u:p`, and so in its URL); such a key is warned of at the
 * start (shortKeyWarning).
 */
export const MIN_MASKED_SECRET_LENGTH = 3;

/**
 * The shortest value masked alone that may be no secret at all: an OTLP header's value (often a
 * tenant id such as `1` or `acme`) and a query parameter's whose name only suggests a credential
 * (`session=7`). Masked from 3, such values would mangle ordinary words and numbers on lines
 * about nothing secret; from 8, text almost never holds one by chance. A shorter one is masked
 * with its name (`key=ab`).
 */
export const MIN_MASKED_VALUE_LENGTH = 8;

/** Whether a secret by what it is (a key, a password) is masked alone: MIN_MASKED_SECRET_LENGTH. */
export function maskableSecret(secret: string | undefined): secret is string {
  return secret !== undefined && secret.length >= MIN_MASKED_SECRET_LENGTH;
}

/** Whether a value that may be no secret is masked alone: MIN_MASKED_VALUE_LENGTH. */
export function maskableValue(value: string | undefined): value is string {
  return value !== undefined && value.length >= MIN_MASKED_VALUE_LENGTH;
}

/**
 * A line to log at warn where a key is too short to be masked (MIN_MASKED_SECRET_LENGTH): the
 * lines will show it wherever an upstream echoes it. `name` says which key.
 */
export function shortKeyWarning(name: string, key: string | undefined): string | undefined {
  if (!key || maskableSecret(key)) return undefined;
  return `${name} has fewer than ${MIN_MASKED_SECRET_LENGTH} characters, too few to mask in log lines without masking ordinary words too: lines that quote it show it (real keys are far longer)`;
}
