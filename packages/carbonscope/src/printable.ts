// C0 controls, DEL and C1 controls: what a terminal acts on instead of showing. And the bidi
// controls (ALM, LRM, RLM, the embeddings, overrides and isolates): a terminal that lays out
// bidi text would draw the rest of the line reversed after one.
const CONTROL = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text quoting what a user typed (a model name, an option's value), with each control character
 * written as its escape (`\n`, `\u001b`): an error stays one line, and an escape sequence in an
 * argument is shown, not run by the terminal.
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** As printable, keeping the line feeds: text of many lines by nature (a stack, a diag dump). */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** The bidi controls alone: JSON.stringify escapes the others (`\u001b`) itself. */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `value` as indented JSON for a terminal, each bidi control inside a string written as its
 * JSON escape (`\u202e`): the value a parser reads is the same, and the rest of the line is
 * not drawn reversed.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    BIDI_CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
