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

  it('follows the latest windows when traffic drops: a window counts as one estimate, however many operations it saw', () => {
    // At 32 connections a window sees ~600 requests of a route that waits on an upstream, at
    // one connection ~19, and each costs more there (an idle loop wakes up for every event).
    const weights = new CpuWeights();
    const busy = (cpuMs: number, count: number) => {
      for (let i = 0; i < count; i++) weights.observe('/io', 'request', cpuMs, 51, true);
      weights.commit();
    };
    busy(0.3, 600);
    for (let w = 0; w < 3; w++) busy(0.9, 19);
    // Three quiet windows: 0.9 ms each time. Summing operations, the busy window's 600 (at 1/8
    // after three halvings) still outweighed their 33 and the name read 0.48 ms.
    const cpu = weights.cpuOf('/io', 51) as number;
    expect(cpu).to.be.closeTo(0.9, 0.9 * 0.15);
    expect(weights.of('/io', 'request')).to.be.closeTo(0.9 / 51, (0.9 / 51) * 0.15);
    // A window of one operation is one noisy reading: it moves the figure, not all of it.
    busy(4.5, 1);
    expect(weights.cpuOf('/io', 51)).to.be.within(cpu, 0.9 * 2.5);
  });
});
