import { expect } from 'chai';
import { quotedText, shownValue } from '../../src/shown-value.js';

describe('quotedText: a name a caller gave, as a message quotes it', () => {
  it('writes half a surrogate pair as U+FFFD, a whole pair as it is', () => {
    expect(quotedText('\ud800\udc00')).to.equal('"\ud800\udc00"');
    expect(quotedText('\udc00\ud800')).to.equal('"\ufffd\ufffd"');
    expect(quotedText('\ud800\ud800\ud800')).to.equal('"\ufffd\ufffd\ufffd"');
  });

  it('cuts at max units without halving a pair, and a lone high one at the end is whole', () => {
    const lone = `${'a'.repeat(99)}\ud800`;
    expect(quotedText(lone)).to.equal(`"${'a'.repeat(99)}\ufffd"`);
    const paired = `${'a'.repeat(99)}\ud83d\ude00b`;
    expect(quotedText(paired)).to.equal(`"${'a'.repeat(99)}…"`);
    expect(quotedText(`${'a'.repeat(98)}\ud83d\ude00b`)).to.equal(
      `"${'a'.repeat(98)}\ud83d\ude00…"`,
    );
  });

  // JSON.stringify escapes C0 only: a U+009B (CSI) ran in a terminal that takes C1 controls,
  // and a U+202E drew the rest of a library user's log line reversed, as in the CLI's lines.
  it('escapes DEL, C1 and bidi controls too, as JSON escapes', () => {
    const text = 'a\u007f\u009b2J\u202eb\u2066c\u200f';
    expect(quotedText(text)).to.equal('"a\\u007f\\u009b2J\\u202eb\\u2066c\\u200f"');
    expect(JSON.parse(quotedText(text))).to.equal(text);
    expect(shownValue('\u202e1')).to.equal('"\\u202e1" (a string)');
  });
});
