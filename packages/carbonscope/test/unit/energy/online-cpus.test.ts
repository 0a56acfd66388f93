import { unlinkSync, writeFileSync } from 'node:fs';
import type { CpuInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createHostCpuReader } from '../../../src/energy/host-cpu.js';
import { countCpuList } from '../../../src/energy/online-cpus.js';
import { tempDir } from './sources/helpers.js';

const count = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return countCpuList(bytes, bytes.length);
};

//                                   user nice system idle iowait irq softirq steal
const stat = (busy: number, idle: number) => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`;

describe('energy/online-cpus', () => {
  it('counts a kernel cpulist: ranges and single CPUs, commas between', () => {
    expect(count('0-1\n')).to.equal(2);
    expect(count('0\n')).to.equal(1);
    expect(count('0-3,5,7-9\n')).to.equal(8);
    expect(count('0-127')).to.equal(128);
  });

  it('gives undefined for what is not a cpulist', () => {
    for (const bad of ['', '\n', 'x', '0-', '3-1', '0,,1', '-1', '0 1']) {
      expect(count(bad), JSON.stringify(bad)).to.equal(undefined);
    }
  });

  describe('the host CPU reader under CPU hotplug', () => {
    let dir: string;
    let cleanup: () => void;
    let procStatPath: string;
    let onlinePath: string;
    /** Writes /proc/stat's aggregate line and, where given, the online cpulist. */
    let at: (busy: number, idle: number, online?: string) => void;
    beforeEach(() => {
      ({ dir, cleanup } = tempDir('online'));
      procStatPath = join(dir, 'stat');
      onlinePath = join(dir, 'online');
      at = (busy, idle, online) => {
        writeFileSync(procStatPath, stat(busy, idle));
        if (online !== undefined) writeFileSync(onlinePath, online);
      };
    });
    afterEach(() => cleanup());

    it('counts the CPUs online at each read, the ones /proc/stat counted time for', () => {
      at(1000, 1000, '0-1\n');
      const read = createHostCpuReader({ procStatPath, onlinePath });
      // 1 s with 2 vCPUs added (a live setvcpus). The interval the count changed in has no
      // known total (see below); the next, all 4 busy, is 4 CPU-seconds of 4.
      at(1300, 1000, '0-3\n');
      expect(read()).to.deep.equal({ activeSeconds: 3, totalSeconds: 0, cpus: 4 });
      at(1700, 1000);
      expect(read()).to.deep.equal({ activeSeconds: 4, totalSeconds: 4, cpus: 4 });
      // 3 of them offline: their counters stop, 1 CPU-second of 1 a second.
      at(1800, 1000, '0\n');
      expect(read().cpus).to.equal(1);
      at(1900, 1000);
      expect(read()).to.deep.equal({ activeSeconds: 1, totalSeconds: 1, cpus: 1 });
    });

    it('gives no total for the interval the count changed in: idle jumps as a CPU comes back', () => {
      // Back online, a CPU's idle is its NO_HZ idle time again, not its tick count: the
      // aggregate's idle jumps by what the two differ by (4,900 s here) in one interval, which
      // read as 0.03 % busy. The sampler takes wall time × CPUs for a total of 0.
      at(1000, 1000, '0-2\n');
      const read = createHostCpuReader({ procStatPath, onlinePath });
      at(1150, 491_150, '0-3\n');
      expect(read()).to.deep.equal({ activeSeconds: 1.5, totalSeconds: 0, cpus: 4 });
    });

    it('keeps the last count when the online file cannot be read or makes no sense', () => {
      at(1000, 1000, '0-2\n');
      const read = createHostCpuReader({ procStatPath, onlinePath });
      writeFileSync(onlinePath, 'garbage\n');
      expect(read().cpus).to.equal(3);
      // Unreadable from the start: os.cpus()'s count.
      const listed = () => [0, 1, 2, 3, 4].map(() => ({}) as CpuInfo);
      const missing = join(dir, 'missing');
      expect(
        createHostCpuReader({ procStatPath, onlinePath: missing, listCpus: listed })().cpus,
      ).to.equal(5);
    });

    it('a gap of failed reads over which the count changed: the last delta and its count stand in, then no total', () => {
      // /proc/stat unreadable for two samples (EMFILE, here gone) while a vCPU was added: each
      // miss repeats the last delta as it was, count included; the read after it spreads its busy
      // time over the 3 samples and, the count having changed, gives no total.
      at(1000, 1000, '0-1\n');
      const read = createHostCpuReader({ procStatPath, onlinePath });
      at(1100, 1100);
      const first = read();
      expect(first).to.deep.equal({ activeSeconds: 1, totalSeconds: 2, cpus: 2 });
      unlinkSync(procStatPath);
      writeFileSync(onlinePath, '0-2\n');
      const standIn = { ...first, standIn: `${procStatPath}: ENOENT` };
      expect(read()).to.deep.equal(standIn);
      expect(read()).to.deep.equal(standIn);
      at(1700, 1100);
      expect(read()).to.deep.equal({ activeSeconds: 2, totalSeconds: 0, cpus: 3 });
      at(2000, 1100);
      expect(read()).to.deep.equal({ activeSeconds: 3, totalSeconds: 3, cpus: 3 });
    });

    it('a /proc without /proc/stat (subset=pid): the CPUs online still count at each sample', () => {
      // /sys is not /proc: its online list reads under ProcSubset=pid, and the sampler's floor
      // models the host's CPUs by it.
      writeFileSync(onlinePath, '0-1\n');
      const missing = join(dir, 'missing');
      const read = createHostCpuReader({ procStatPath: missing, onlinePath, listCpus: () => [] });
      expect(read().cpus).to.equal(2);
      writeFileSync(onlinePath, '0-3\n');
      const after = read();
      expect(after.unread).to.be.a('string');
      expect(after.cpus).to.equal(4);
    });

    it('a count given by the caller stays as given', () => {
      at(1000, 1000, '0-3\n');
      expect(createHostCpuReader({ procStatPath, onlinePath, cpus: 2 })().cpus).to.equal(2);
    });
  });
});
