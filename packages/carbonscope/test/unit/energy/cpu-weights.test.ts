import { expect } from 'chai';
import { CpuWeights } from '../../../src/energy/cpu-weights.js';

/** One window's operations of `/a`: CPU `perMs` × duration, whole. */
function window(weights: CpuWeights, perMs: number): void {
  for (const ms of [10, 20, 30, 40]) weights.observe('/a', 'request', ms * perMs, ms, true);
  weights.commit();
}

const answers = (weights: CpuWeights) => [
  weights.known('/a'),
  weights.of('/a', 'request'),
  weights.cpuOf('/a', 50),
];

describe('CPU weights (what calibration windows measured per operation name)', () => {
  it('answers with the latest window once it commits, whatever was asked before it', () => {
    const asked = new CpuWeights();
    const quiet = new CpuWeights();
    // Asked before any window: nothing known (the tracker then weighs by time).
    expect(answers(asked)).to.deep.equal([false, undefined, undefined]);
    window(asked, 0.1);
    window(quiet, 0.1);
    expect(answers(asked)).to.deep.equal(answers(quiet));
    expect(asked.cpuOf('/a', 50)).to.be.closeTo(5, 1e-9);
    expect(asked.known('/b')).to.equal(false); // another name in between
    expect(answers(asked)).to.deep.equal(answers(quiet));
    // A second window changes the name's figures: they are what a tracker never asked reads.
    window(asked, 0.3);
    window(quiet, 0.3);
    expect(answers(asked)).to.deep.equal(answers(quiet));
    expect(asked.of('/a', 'request')).to.be.above(0.1);
  });

  it('follows the latest windows when traffic drops: the past weighs no more than twice the newest window', () => {
    // Each route as fast as it answers (~580 requests of an I/O-bound route a window at 32
    // connections), then one connection (~19 a window), where each request costs three times
    // as much (an idle loop wakes up for every event).
    const weights = new CpuWeights();
    const windowOf = (cpuMs: number, count: number) => {
      for (let i = 0; i < count; i++) weights.observe('/io', 'request', cpuMs, 51, true);
      weights.commit();
    };
    for (let w = 0; w < 3; w++) windowOf(0.3, 580);
    for (let w = 0; w < 4; w++) windowOf(0.9, 19);
    // Counted by operations, the busy windows (at 1/16 after four halvings) still outweighed
    // the four quiet ones: the name read 0.51 ms.
    expect(weights.cpuOf('/io', 51)).to.be.closeTo(0.9, 0.09);
    expect(weights.of('/io', 'request')).to.be.closeTo(0.9 / 51, 0.09 / 51);
  });

  it('moves little for a window of one or two operations: one reading is not a new figure', () => {
    const weights = new CpuWeights();
    for (let w = 0; w < 3; w++) window(weights, 0.1);
    const before = weights.cpuOf('/a', 50) as number;
    weights.observe('/a', 'request', 20, 25, true); // one request at 0.8 ms per ms
    weights.commit();
    expect(weights.cpuOf('/a', 50)).to.be.within(before, before * 1.5);
  });

  it('keeps halving the past at each window when the windows are alike', () => {
    // Steady traffic: the cap never binds, and a change shows as it always did.
    const weights = new CpuWeights();
    for (let w = 0; w < 6; w++) window(weights, 0.1);
    window(weights, 0.4);
    // Six windows at 0.1 (their weight 1/2 + 1/4 + ... ≈ 1) and one at 0.4.
    const expected = (0.4 + 0.1 * (1 - 0.5 ** 6)) / (1 + (1 - 0.5 ** 6));
    expect(weights.of('/a', 'request')).to.be.closeTo(expected, 1e-9);
  });

  it("gives a name beyond the table its kind's density, and says none could learn it", () => {
    const weights = new CpuWeights(2);
    expect(weights.learnable('/a')).to.equal(true);
    weights.observe('/a', 'request', 1, 10, true);
    weights.observe('/b', 'request', 3, 10, true);
    weights.observe('/c', 'request', 8, 10, true); // seen, but the table is full
    weights.commit();
    expect(weights.learnable('/a')).to.equal(false); // known
    expect(weights.learnable('/d')).to.equal(false); // no room
    // Its kind's density over the window's three (12 ms of CPU in 30 ms), no line of its own.
    expect(weights.known('/c')).to.equal(false);
    expect(weights.cpuOf('/c', 10)).to.equal(undefined);
    expect(weights.of('/c', 'request')).to.be.closeTo(0.4, 1e-9);
  });
});
