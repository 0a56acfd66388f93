import { expect } from 'chai';
import { gpuShareOutcome } from '../../../src/cli/run.js';

describe("run's GPU share of a GPU read late", () => {
  // nvidia-smi read no GPU at start (a driver loading), so pmon was never started; its GPUs read
  // later were in the host figures with a note that said no reason at all.
  it('says why no share was read where nvidia-smi read its GPUs only after the start', () => {
    const outcome = gpuShareOutcome(undefined, { atStart: false, now: true });
    expect(outcome?.read).to.equal(false);
    expect(outcome?.fallback).to.match(/read its GPUs only after the start/);
  });

  it("keeps pmon's own outcome, and says nothing where no GPU was read", () => {
    const read = { read: true, commandBusy: true };
    expect(gpuShareOutcome(read, { atStart: true, now: true })).to.equal(read);
    expect(gpuShareOutcome(undefined, { atStart: false, now: false })).to.equal(undefined);
    // pmon not started for another reason (no tree CPU reader): not the late GPU's note.
    expect(gpuShareOutcome(undefined, { atStart: true, now: true })).to.equal(undefined);
  });
});
