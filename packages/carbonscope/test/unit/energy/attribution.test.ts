import { expect } from 'chai';
import {
  clamp01,
  gramsPerJoule,
  hostUtilization,
  JOULES_PER_KWH,
  processShare,
} from '../../../src/energy/index.js';

const host = (activeSeconds: number, totalSeconds: number) => ({
  activeSeconds,
  totalSeconds,
  cpus: 2,
});

describe('energy attribution', () => {
  it('hostUtilization is the busy fraction, clamped to 0..1, 0 when nothing elapsed', () => {
    expect(hostUtilization(host(1, 4))).to.equal(0.25);
    expect(hostUtilization(host(5, 4))).to.equal(1);
    expect(hostUtilization(host(Number.NaN, 4))).to.equal(0);
    expect(hostUtilization(host(1, 0))).to.equal(0);
  });

  it('proportional (Scaphandre) gives the process its share of busy time, of all energy', () => {
    // 2 CPUs over 1 s: 0.5 s busy in all, 0.25 s of it ours -> half of everything.
    expect(processShare('proportional', 0.25, host(0.5, 2))).to.equal(0.5);
  });

  it('dynamic (Kepler) gives the process its share of busy time, of active energy only', () => {
    // Active fraction 0.5/2 = 0.25 of the energy; ours is half of that.
    expect(processShare('dynamic', 0.25, host(0.5, 2))).to.equal(0.125);
  });

  it('dynamic never hands out idle energy: an idle host attributes nothing', () => {
    expect(processShare('dynamic', 0, host(0, 2))).to.equal(0);
    expect(processShare('proportional', 0, host(0, 2))).to.equal(0);
  });

  it('clamps when the process outruns the host jiffies (10 ms ticks vs µs)', () => {
    // Host saw 0 busy jiffies while the process spent 5 ms: it owns all busy time.
    expect(processShare('proportional', 0.005, host(0, 0.2))).to.equal(1);
    expect(processShare('dynamic', 0.005, host(0, 0.2))).to.be.closeTo(0.025, 1e-12);
    expect(processShare('proportional', 3, host(1, 2))).to.equal(1);
    expect(processShare('dynamic', 3, host(1, 2))).to.equal(1);
  });

  it('gives 0 for NaN, negative or empty inputs', () => {
    expect(processShare('dynamic', Number.NaN, host(1, 2))).to.equal(0);
    expect(processShare('dynamic', -1, host(1, 2))).to.equal(0);
    expect(processShare('proportional', 1, host(1, 0))).to.equal(0);
    expect(clamp01(Number.NaN)).to.equal(0);
  });

  it('prices a joule at intensity x PUE / 3.6e6', () => {
    expect(JOULES_PER_KWH).to.equal(3.6e6);
    expect(gramsPerJoule(360, 1.5)).to.be.closeTo((360 * 1.5) / 3.6e6, 1e-18);
    expect(gramsPerJoule(Number.NaN, 1)).to.equal(0);
  });
});
