import { expect } from 'chai';
import { BLANK_RUN, LINE_BREAK, oneLine } from '../../../src/otel/one-line.js';
import { expectLinear } from '../../helpers/linear-pattern.js';

describe('otel/one-line', () => {
  it('joins the lines of a reason in linear time (64 K of blanks took 1.5 s)', async () => {
    // A collection's reason is the application's callback's error, quoting what it read:
    // `\s*[\r\n]+\s*` ran from each blank of a run without a line break to its end.
    await expectLinear(BLANK_RUN);
    await expectLinear(LINE_BREAK);
    const blanks = ' '.repeat(64 * 1024);
    expect(oneLine(`a${blanks}x`)).to.equal(`a${blanks}x`);
  });

  it('makes each run of blanks that breaks a line one space, and keeps the others', () => {
    expect(oneLine('grid answered 401\r\n  for  token\u2028x \n\n y\t')).to.equal(
      'grid answered 401 for  token x y\t',
    );
    expect(oneLine('\nlead\n')).to.equal(' lead ');
    expect(oneLine('')).to.equal('');
  });
});
