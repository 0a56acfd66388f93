import { expect } from 'chai';
import { printable, printableLines } from '../../src/printable.js';

describe('printable: text quoted on a terminal', () => {
  it('writes control characters as escapes', () => {
    expect(printable('a\u001b[31mb\n')).to.equal('a\\u001b[31mb\\n');
  });

  // A terminal that lays out bidi text drew the rest of the line reversed after a U+202E in a
  // collector's reason phrase or a model name: shown as escapes, as the C0 controls are.
  it('writes bidi controls as escapes, and leaves right-to-left letters alone', () => {
    expect(printable('rlo:\u202eabc \u2066x\u2069 \u200f\u061c')).to.equal(
      'rlo:\\u202eabc \\u2066x\\u2069 \\u200f\\u061c',
    );
    expect(printable('ساعات קריאה héllo 日本')).to.equal('ساعات קריאה héllo 日本');
    expect(printableLines('a\u202e\nb')).to.equal('a\\u202e\nb');
  });
});
