/** About 4 characters a token: OpenAI's rule of thumb for English text. */
export const CHARS_PER_TOKEN = 4;

/** A rough token count, for where no tokenizer's count is available. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * The largest token count believed from an upstream's usage: the longest context window a model
 * offers today (10 M tokens). A count beyond it is not a count; believing it would let one
 * answer add megawatt-hours to the counters for good.
 */
export const MAX_REPORTED_TOKENS = 10_000_000;

/** True when a usage object carries a count beyond MAX_REPORTED_TOKENS: none of it is believed. */
export function implausibleUsage(usage: unknown): boolean {
  if (!usage || typeof usage !== 'object') return false;
  const { prompt_tokens: prompt, completion_tokens: completion } = usage as Record<string, unknown>;
  return [prompt, completion].some((n) => typeof n === 'number' && !(n <= MAX_REPORTED_TOKENS));
}
