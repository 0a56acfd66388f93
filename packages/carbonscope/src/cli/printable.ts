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

/** As printable, keeping the line feeds: text of many lines by nature (a stack, a diag dump). */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
