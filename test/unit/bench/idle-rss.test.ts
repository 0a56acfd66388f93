import { expect } from 'chai';
import { settledRss } from '../../bench/idle-rss.js';

/**
 * RSS readings of two idle servers, one a second, as the bench saw them (MiB): V8's memory
 * reducer hands back each one's start-up heap at its own moment (8 s and 16 s after start).
 */
const TIMELINES: Record<number, number[]> = {
  1: [124, 124, 124, 124, 124, 124, 124, 124, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104],
  2: [131, 132, 132, 132, 132, 132, 132, 132, 132, 132, 132, 132, 132, 132, 132, 132, 109, 108],
};

function scripted(): { read: (pid: number) => number; wait: (ms: number) => Promise<void> } {
  let second = 0;
  return {
    read: (pid) => TIMELINES[pid][Math.min(second, TIMELINES[pid].length - 1)],
    wait: async (ms) => {
      second += ms / 1000;
    },
  };
}

describe('settledRss', () => {
  it('reads each process after its memory reducer ran, not at one moment both share', async () => {
    const { read, wait } = scripted();
    const [bare, carbonscope] = await settledRss(
      [1, 2],
      { windowMs: 18_000, everyMs: 1000 },
      read,
      wait,
    );
    expect(bare).to.equal(104);
    expect(carbonscope).to.equal(108);
    // Read once at 2 s, as the bench did, the same two servers compared 1.07x; at 10 s, 1.27x.
    expect(carbonscope / bare).to.be.closeTo(1.04, 0.01);
  });

  it('is NaN for a process it could not read', async () => {
    const [gone] = await settledRss(
      [3],
      { windowMs: 2000, everyMs: 1000 },
      () => Number.NaN,
      async () => {},
    );
    expect(gone).to.be.NaN;
  });
});
