import { unlinkSync, writeFileSync } from 'node:fs';
import type { CpuInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { meterOnHostCpu } from './host-cpu-meter.js';
import { tempDir } from './sources/helpers.js';

//           user nice system idle iowait irq softirq steal guest guest_nice
const stat = (busy: number, idle: number) =>
  `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`;

// When /proc/stat fails after start (EMFILE, a /proc unmounted), the host CPU reader repeats its
// last reading: the process's share of the energy (and the estimate's power, a model of the
// host's load) rest on a load nobody read. The snapshot said nothing of it, nor the reports
// built from it.
describe('host CPU time a stand-in gave', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('hostcpu-stand-in'));
  });
  afterEach(() => cleanup());

  function meterOn(procStatPath: string, listCpus?: () => readonly CpuInfo[]) {
    return meterOnHostCpu({ procStatPath, ...(listCpus ? { listCpus } : {}) });
  }

  it('the snapshot counts the intervals and says why, from the first one on', async () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat(100, 900));
    const { cs, interval } = await meterOn(path);
    writeFileSync(path, stat(200, 1000));
    interval();
    expect(cs.snapshot().attribution).to.not.have.property('hostCpuStandIns');
    unlinkSync(path);
    interval();
    interval();
    expect(cs.snapshot().attribution.hostCpuStandIns).to.deep.equal({
      intervals: 2,
      reason: `${path}: ENOENT`,
    });
    // Since the start, as partialIntervals: a read that gets through again takes none back.
    writeFileSync(path, stat(500, 1500));
    interval();
    expect(cs.snapshot().attribution.hostCpuStandIns?.intervals).to.equal(2);
    await cs.stop();
  });

  // A /proc mounted subset=pid: neither /proc/stat nor os.cpus() reads.
  it("counts the floor too: no host CPU time read at all, the process's stands in", async () => {
    const path = join(dir, 'missing');
    const { cs, interval } = await meterOn(path, () => []);
    interval();
    const standIns = cs.snapshot().attribution.hostCpuStandIns;
    expect(standIns?.intervals).to.equal(1);
    expect(standIns?.reason).to.match(/^cannot read \S+ \(ENOENT\) and os\.cpus\(\) lists no CPU/);
    await cs.stop();
  });
});
