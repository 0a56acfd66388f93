const PERCENT = 0x25;

/** The value of the hex digit at `i` (past the end too: NaN), else -1. */
function hexAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** The byte the escape at `i` (`%` and two hex digits) stands for, else -1. */
function escapedByte(text: string, i: number): number {
  if (text.charCodeAt(i) !== PERCENT) return -1;
  const high = hexAt(text, i + 1);
  const low = hexAt(text, i + 2);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

/** How many bytes follow the lead byte `lead` of a UTF-8 sequence; 0 for one that leads none. */
function followers(lead: number): number {
  if (lead < 0xc2) return 0; // ASCII is no lead; 80-BF continue a sequence, C0 and C1 overlong.
  if (lead < 0xe0) return 1;
  if (lead < 0xf0) return 2;
  return lead < 0xf5 ? 3 : 0; // Past F4, code points past U+10FFFF.
}

/**
 * Whether `byte` may follow the lead byte `lead` as its second: the Unicode Standard's table 3-7
 * of well-formed sequences narrows it for E0 and F0 (overlong forms), ED (surrogates) and F4
 * (past U+10FFFF); every later byte is a continuation byte, 80-BF.
 */
function secondFits(lead: number, byte: number): boolean {
  const min = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
  const max = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
  return byte >= min && byte <= max;
}

/**
 * Whether `decodeURIComponent(text)` would decode it: every `%` starts an escape, and the bytes
 * escaped decode as UTF-8. Read in place, escape by escape, where decoding built a string the
 * size of the text only to throw it away (test/bench/body-check.bench.ts measures the two). The
 * text between escapes is no byte of theirs: `%C3é` does not decode.
 */
export function escapesDecode(text: string): boolean {
  let at = text.indexOf('%');
  while (at !== -1) {
    const lead = escapedByte(text, at);
    if (lead < 0) return false;
    at += 3;
    if (lead >= 0x80) {
      const count = followers(lead);
      if (count === 0 || !secondFits(lead, escapedByte(text, at))) return false;
      for (let k = 1; k < count; k++) {
        const byte = escapedByte(text, at + 3 * k);
        if (byte < 0x80 || byte > 0xbf) return false;
      }
      at += 3 * count;
    }
    // Escapes come in runs (a word of accented text): the next is looked at before a search.
    if (text.charCodeAt(at) !== PERCENT) at = text.indexOf('%', at);
  }
  return true;
}
