import { expect } from 'chai';
import { poll, waitFor } from '../helpers/wait.js';

describe('test helpers: poll and waitFor', () => {
  it('poll resolves true once the check holds, and false at the deadline', async () => {
    let calls = 0;
    expect(await poll(async () => ++calls >= 3, 1000, 1)).to.equal(true);
    expect(calls).to.equal(3);
    expect(await poll(async () => false, 20, 1)).to.equal(false);
  });

  it('a check that throws is "not yet"; the timeout then names what it last threw', async () => {
    let calls = 0;
    await waitFor(
      'a flaky check',
      async () => {
        if (++calls < 3) throw new Error('connection refused');
        return true;
      },
      1000,
      1,
    );
    expect(calls).to.equal(3);
    const failure = await waitFor(
      'the scrape',
      async () => {
        throw new Error('ECONNREFUSED 127.0.0.1:9464');
      },
      20,
      1,
    ).catch((err: unknown) => err);
    expect(String(failure)).to.equal(
      'Error: timed out after 0.02 s waiting for the scrape; the last check threw: ECONNREFUSED 127.0.0.1:9464',
    );
    // A check that threw and then answered false is only late: no stale error in the message.
    let n = 0;
    const late = await waitFor(
      'a slow check',
      async () => {
        if (n++ === 0) throw new Error('once');
        return false;
      },
      20,
      1,
    ).catch((err: unknown) => err);
    expect(String(late)).to.equal('Error: timed out after 0.02 s waiting for a slow check');
  });
});
