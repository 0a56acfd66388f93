/**
 * The first `max` code points of `text`: a message quoting what a client sent cuts it short,
 * and cut in UTF-16 units an emoji across the cut left half a surrogate pair, which no UTF-8
 * text (a page, a JSON body as bytes) can carry.
 */
export function firstCodePoints(text: string, max: number): string {
  let end = 0;
  for (let n = 0; n < max && end < text.length; n++) {
    end += (text.codePointAt(end) as number) > 0xffff ? 2 : 1;
  }
  return text.slice(0, end);
}

/**
 * The characters (code points) of `text`, as the routes' limits count them: an emoji is one, not
 * the two UTF-16 units String length counts. A lone surrogate counts one.
 */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * At most `max` UTF-16 units of `text` (a limit counted as String length counts), one less where
 * the cut would fall inside a surrogate pair: the emoji is dropped whole, not halved.
 */
export function firstCodeUnits(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** ES2024's String methods, which Node 20 has and the ES2023 lib here does not declare. */
type WellFormable = string & { toWellFormed(): string };

/**
 * `text` with each lone surrogate (half a pair: a high one not followed by a low one, or a low
 * one not after a high) replaced by U+FFFD, as a UTF-8 encoder does: JSON may carry one
 * (`"\ud800"`), and what is passed on as text (a JSON answer, a log line) would otherwise carry
 * it escaped, which strict parsers refuse. V8's own scan: a lookaround regex took ~150 ms of the
 * event loop for the 1 M lone surrogates an upstream's answer can hold.
 */
export function wellFormed(text: string): string {
  return (text as WellFormable).toWellFormed();
}
