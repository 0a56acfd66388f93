import { expect } from 'chai';
import { EmissionsTracker, start, stop } from '../../../src/api.js';
import {
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  switchingSource,
  testConfig,
} from '../energy/scripted.js';

/** A tracker on the default instance, its host the estimate until `state.measured`. */
function scriptedTracker() {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const { source, state } = switchingSource(10);
  const tracker = new EmissionsTracker('window', {
    settings: testConfig({ ENERGY_ATTRIBUTION: 'proportional' }),
    logger: memoryLogger().logger,
    grid: new StubGrid(intensityReading('DE', 400)),
    sources: { host: source, gpus: [] },
    clock: clock.now,
    timer: new ManualTimer(),
    hostCpu: cpu.hostCpu,
    processCpu: cpu.processCpu,
  });
  const second = () => {
    clock.advance(1000);
    cpu.interval(1, 0.5, 0.5);
  };
  /** A sample of the meter, as its timer would take, without opening a window. */
  const sample = async () => (await start()).meter.sampleNow();
  return { tracker, state, second, sample };
}

describe('EmissionsTracker across a hand-over from the estimate to a meter', () => {
  afterEach(() => stop());

  it('a window that holds the estimate’s joules is estimated, though it ends measured', async () => {
    const { tracker, state, second, sample } = scriptedTracker();
    await tracker.start();
    second();
    await sample();
    state.measured = true;
    second();
    const footprint = await tracker.stop();
    expect(footprint.joules).to.be.closeTo(10, 1e-9);
    expect(footprint.estimated).to.equal(true);
  });

  it('a window wholly after the meter took over is measured', async () => {
    const { tracker, state, second, sample } = scriptedTracker();
    await tracker.start();
    second();
    await sample();
    state.measured = true;
    second();
    await tracker.start();
    second();
    const footprint = await tracker.stop();
    expect(footprint.joules).to.be.closeTo(5, 1e-9);
    expect(footprint.estimated).to.equal(false);
  });
});
