import { expect } from 'chai';
import { waitFor } from '../helpers/wait.js';

// The tests' one wait: a wait that ends unmet must fail there, saying what it awaited and what
// it saw last, not let the test run on to an assertion that only says it saw too little.
describe('test helper waitFor', () => {
  it('resolves with the first value the check accepts', async () => {
    let calls = 0;
    const value = await waitFor('the third call', () => ++calls, {
      until: (n) => n >= 3,
      intervalMs: 1,
    });
    expect(value).to.equal(3);
  });

  it('past its deadline, throws naming what it awaited and the last value seen', async () => {
    const failed = await waitFor('two lines', () => ['one line'], {
      timeoutMs: 30,
      until: (lines) => lines.length >= 2,
    }).catch((e: Error) => e);
    expect(failed).to.be.an('error');
    expect((failed as Error).message).to.match(/waiting for two lines; .*\[ 'one line' \]/);
  });

  it('counts a check that throws as not yet, and names its last error when it never passes', async () => {
    let calls = 0;
    expect(await waitFor('a second call', () => (++calls < 2 ? Promise.reject() : true))).to.be
      .true;
    const failed = await waitFor(
      'a scrape',
      () => {
        throw new Error('ECONNREFUSED');
      },
      30,
    ).catch((e: Error) => e);
    expect((failed as Error).message).to.match(
      /waiting for a scrape; the last check threw: ECONNREFUSED/,
    );
  });
});
