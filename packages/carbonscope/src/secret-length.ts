/**
 * The shortest configured secret (an API key, a header's or a secret parameter's value, a URL's
 * password) masked wherever it shows in a line. A shorter one masked so would mangle ordinary
 * text, a key `k` every `k` of a line (`"[redacted]ind":"networ[redacted]"`), and the holes it
 * punched would show it anyway. Eight characters of a key's alphabet almost never occur in text
 * by chance, and real keys are far longer (Electricity Maps' and OpenAI's run to dozens). A
 * shorter secret is masked only in a form that names it, where it has one (`key=ab`, `user:pw`,
 * its URL), and a configured key that short is warned of at the start (shortKeyWarnings).
 */
export const MIN_MASKED_SECRET_LENGTH = 8;

/** Whether `secret` is long enough to be masked alone, everywhere (MIN_MASKED_SECRET_LENGTH). */
export function maskableAlone(secret: string | undefined): secret is string {
  return secret !== undefined && secret.length >= MIN_MASKED_SECRET_LENGTH;
}
