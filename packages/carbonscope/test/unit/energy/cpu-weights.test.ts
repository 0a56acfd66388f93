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
});
