import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import type { EnergyMeter } from '../../../src/energy/index.js';
import { LoopEndSettler } from '../../../src/runtime/loop-end-settle.js';

/** A meter whose samples are counted; `settles` says whether one settles what is awaited. */
function countingMeter(state: { sampling: boolean; samples: number; onSample: () => void }) {
  return {
    get sampling() {
      return state.sampling;
    },
    latest: () => null,
    options: { clock: () => performance.now() },
    sampleNow: () => {
      state.samples++;
      state.onSample();
      return null;
    },
  } as unknown as EnergyMeter;
}

/** Node's beforeExit as the loop runs empty: true where some listener (or a hold) took it. */
const loopRunsEmpty = (): boolean => process.emit('beforeExit', 0);

describe('LoopEndSettler (the sample an awaited settled() waits for, at the loop end)', () => {
  let told = 0;
  const listener = () => {
    told++;
  };
  /** Armed, and disarmed after each test whatever its end: the holds are the process's. */
  let settlers: LoopEndSettler[] = [];
  const armed = (meter: EnergyMeter, awaited: () => boolean) => {
    const settler = new LoopEndSettler(meter, awaited);
    settlers.push(settler);
    settler.arm();
    return settler;
  };
  beforeEach(() => {
    told = 0;
    process.on('beforeExit', listener);
  });
  afterEach(() => {
    process.off('beforeExit', listener);
    for (const settler of settlers) settler.disarm();
    settlers = [];
  });

  it('holds the loop for one sample while someone waits, telling no listener of it', async () => {
    let awaited = true;
    const state = { sampling: true, samples: 0, onSample: () => (awaited = false) };
    armed(countingMeter(state), () => awaited);
    expect(loopRunsEmpty()).to.equal(false);
    expect(loopRunsEmpty(), 'an end while the sample is to come').to.equal(false);
    expect(told).to.equal(0);
    await delay(150);
    expect(state.samples).to.equal(1);
    // Settled: the next end is the application's.
    expect(loopRunsEmpty()).to.equal(true);
    expect(told).to.equal(1);
  });

  it('holds nothing where no sample is to come (a meter never started)', () => {
    const state = { sampling: false, samples: 0, onSample: () => undefined };
    armed(countingMeter(state), () => true);
    expect(loopRunsEmpty()).to.equal(true);
    expect(told).to.equal(1);
    expect(state.samples).to.equal(0);
  });

  // A sample settles every ended operation; one that did not (its update failed) was taken
  // again at each end of the loop, 10 a second for ever.
  it('takes no second sample at the loop end where one settled nothing', async () => {
    const state = { sampling: true, samples: 0, onSample: () => undefined };
    armed(countingMeter(state), () => true);
    expect(loopRunsEmpty()).to.equal(false);
    await delay(150);
    expect(state.samples).to.equal(1);
    expect(loopRunsEmpty(), 'held again').to.equal(true);
    expect(told).to.equal(1);
  });

  it('stop() lets go: the timer is cleared and the next end is told', async () => {
    const state = { sampling: true, samples: 0, onSample: () => undefined };
    const settler = armed(countingMeter(state), () => true);
    expect(loopRunsEmpty()).to.equal(false);
    settler.disarm();
    await delay(150);
    expect(state.samples).to.equal(0);
    expect(loopRunsEmpty()).to.equal(true);
  });
});
