// C0 controls, DEL and C1 controls: what a terminal acts on instead of showing.
const CONTROL = /\p{Cc}/gu;
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
