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
