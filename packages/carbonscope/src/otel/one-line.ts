/** A run of blanks, each put back unless it breaks a line. */
export const BLANK_RUN = /\s+/g;

/** What breaks a line on a terminal or in a log reader. */
export const LINE_BREAK = /[\r\n\u2028\u2029]/;

/**
 * `text` on one line: each run of blanks that breaks a line becomes one space, other blanks stay
 * as written. A stderr line that wraps reads as two, the second nobody's. Runs, not one
 * `\s*[\r\n]+\s*`: that ran from each blank of a run without a break to its end, quadratic in an
 * error's message (1.5 s on 64 KiB of blanks).
 */
export function oneLine(text: string): string {
  return text.replace(BLANK_RUN, (run) => (LINE_BREAK.test(run) ? ' ' : run));
}
