/** About 4 characters a token: OpenAI's rule of thumb for English text. */
export const CHARS_PER_TOKEN = 4;

/** A rough token count, for where no tokenizer's count is available. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
