import { expect } from 'chai';
import { HostCpuMean } from '../../../src/cli/host-cpu-read.js';
import { sampleAt } from '../energy/scripted.js';

/** A 1 s sample at `busy` (0..1), after `standIns` intervals since the start were not read. */
function sample(busy: number, standIns: number) {
  return {
    ...sampleAt(0, 0, 0, true),
    hostUtilization: busy,
    ...(standIns > 0
      ? { hostCpuStandIns: { intervals: standIns, reason: 'cannot read /proc/stat' } }
      : {}),
  };
}

describe('HostCpuMean: the CSV and JSON host CPU busy share', () => {
  // With /proc/stat unreadable (a bind mount over it, as /proc mounted subset=pid) monitor's
  // CSV said cpu_utilization_percent 0.0 and --json cpuUtilizationPercent 0 on a machine at
  // 100 %: the intervals a stand-in gave (monitor's, 0) were averaged as readings.
  it('is null where no interval was read, not the stand-in', () => {
    const mean = new HostCpuMean();
    for (const n of [1, 2, 3]) mean.add(sample(0, n));
    expect(mean.percent()).to.equal(null);
  });

  it('averages the intervals that were read, leaving out those a stand-in gave', () => {
    const mean = new HostCpuMean();
    // Read at 80 %, then 2 intervals not read (the last reading, 80 %, stood in), read at 40 %.
    for (const [busy, standIns] of [
      [0.8, 0],
      [0.8, 1],
      [0.8, 2],
      [0.4, 2],
    ] as const) {
      mean.add(sample(busy, standIns));
    }
    expect(mean.percent()).to.be.closeTo(60, 1e-9);
  });

  it('is null before any sample', () => {
    expect(new HostCpuMean().percent()).to.equal(null);
  });
});
