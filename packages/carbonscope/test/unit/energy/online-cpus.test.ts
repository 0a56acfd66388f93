import { unlinkSync, writeFileSync } from 'node:fs';
import type { CpuInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createHostCpuReader } from '../../../src/energy/host-cpu.js';
import { countCpuLines, countCpuList } from '../../../src/energy/online-cpus.js';
import { tempDir } from './sources/helpers.js';

const count = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return countCpuList(bytes, bytes.length);
};

/** countCpuLines over `text`, the whole file unless `whole` says otherwise. */
const lines = (text: string, whole = true) => {
  const bytes = new TextEncoder().encode(text);
  return countCpuLines(bytes, bytes.length, whole);
};

//                    user nice system idle iowait irq softirq steal
const times = (busy: number, idle: number) => `${busy} 0 0 ${idle} 0 0 0 0 0 0`;
/** /proc/stat as the kernel writes it: the aggregate line, then one line a CPU online. */
const stat = (busy: number, idle: number, online: readonly number[] = []) =>
  `cpu  ${times(busy, idle)}\n${online.map((n) => `cpu${n} ${times(0, 0)}\n`).join('')}` +
  'intr 12345 0 0\nctxt 999\n';
/** CPUs 0 to n - 1. */
const first = (n: number) => Array.from({ length: n }, (_, i) => i);

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

  it("counts /proc/stat's cpuN lines, one a CPU online, gaps and all, up to the first other line", () => {
    expect(lines(stat(1, 1, [0, 1]))).to.equal(2);
    // An offline CPU has no line: 0, 1 and 3 online are 3, not 4.
    expect(lines(stat(1, 1, [0, 1, 3]))).to.equal(3);
    expect(lines(stat(1, 1))).to.equal(0);
    expect(lines('cpu  1 0 0 1 0 0 0 0 0 0\n')).to.equal(0);
    expect(lines('cpu  1 0 0 1\ncpu0 1 0 0 1\ncpu1 1 0 0 1')).to.equal(2);
    // Only cpuN lines right after the aggregate count: a "cpu" further on is not one.
    expect(lines('cpu  1\ncpu0 1\nintr 1\ncpu1 1\n')).to.equal(1);
    expect(lines('cpu  1\ncpux 1\ncpu1 1\n')).to.equal(0);
  });

  it('gives undefined where the bytes read end before the line after the last cpuN one', () => {
    const text = stat(1, 1, [0, 1]);
    const bytes = new TextEncoder().encode(text);
    const intr = text.indexOf('intr');
    for (const end of [10, intr - 5, intr, intr + 2]) {
      expect(countCpuLines(bytes, end, false), `${end} bytes`).to.equal(undefined);
    }
    expect(countCpuLines(bytes, intr + 4, false)).to.equal(2);
    expect(countCpuLines(bytes, bytes.length, false)).to.equal(2);
  });

  describe('the host CPU reader under CPU hotplug', () => {
    let dir: string;
    let cleanup: () => void;
    let procStatPath: string;
    let onlinePath: string;
    let online: readonly number[];
    /** Writes /proc/stat: the aggregate line and, as last given, a line for each CPU online. */
    let at: (busy: number, idle: number, cpus?: readonly number[]) => void;
    beforeEach(() => {
      ({ dir, cleanup } = tempDir('online'));
      procStatPath = join(dir, 'stat');
      onlinePath = join(dir, 'online');
      online = [];
      at = (busy, idle, cpus) => {
        online = cpus ?? online;
        writeFileSync(procStatPath, stat(busy, idle, online));
      };
    });
    afterEach(() => cleanup());

    it('counts the CPUs online at each read, the ones /proc/stat counted time for, from its cpuN lines', () => {
      at(1000, 1000, first(2));
      const read = createHostCpuReader({ procStatPath, onlinePath });
      // 1 s with 2 vCPUs added (a live setvcpus). The interval the count changed in has no
      // known total (see below); the next, all 4 busy, is 4 CPU-seconds of 4.
      at(1300, 1000, first(4));
      expect(read()).to.deep.equal({ activeSeconds: 3, totalSeconds: 0, cpus: 4 });
      at(1700, 1000);
      expect(read()).to.deep.equal({ activeSeconds: 4, totalSeconds: 4, cpus: 4 });
      // 3 of them offline: their counters stop, 1 CPU-second of 1 a second.
      at(1800, 1000, [0]);
      expect(read().cpus).to.equal(1);
      at(1900, 1000);
      expect(read()).to.deep.equal({ activeSeconds: 1, totalSeconds: 1, cpus: 1 });
    });

    it('takes the count from the /proc/stat read, not /sys/devices/system/cpu/online, where it lists CPUs', () => {
      // The two files are printed from one mask (cpu_online_mask), and the sample read both; it
      // reads /proc/stat alone now. An online file that says otherwise is not read at all.
      writeFileSync(onlinePath, '0-7\n');
      at(1000, 1000, [0, 1, 3]);
      const read = createHostCpuReader({ procStatPath, onlinePath });
      at(1300, 1600);
      expect(read()).to.deep.equal({ activeSeconds: 3, totalSeconds: 9, cpus: 3 });
    });

    it("a host whose cpuN lines run past the first read's bytes: all counted", () => {
      // 4 KiB are read at first; 300 CPUs' lines are ~8 KiB here (and up to 218 bytes a line).
      at(1000, 1000, first(300));
      const read = createHostCpuReader({ procStatPath, onlinePath });
      at(1300, 1000, first(299));
      expect(read().cpus).to.equal(299);
      at(1600, 1000, first(301));
      expect(read().cpus).to.equal(301);
    });

    it('gives no total for the interval the count changed in: idle jumps as a CPU comes back', () => {
      // Back online, a CPU's idle is its NO_HZ idle time again, not its tick count: the
      // aggregate's idle jumps by what the two differ by (4,900 s here) in one interval, which
      // read as 0.03 % busy. The sampler takes wall time × CPUs for a total of 0.
      at(1000, 1000, first(3));
      const read = createHostCpuReader({ procStatPath, onlinePath });
      at(1150, 491_150, first(4));
      expect(read()).to.deep.equal({ activeSeconds: 1.5, totalSeconds: 0, cpus: 4 });
    });

    it('no cpuN line in /proc/stat: the online file counts, and the last count stands where it cannot be read or makes no sense', () => {
      at(1000, 1000);
      writeFileSync(onlinePath, '0-2\n');
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
      at(1000, 1000, first(2));
      const read = createHostCpuReader({ procStatPath, onlinePath });
      at(1100, 1100);
      const firstDelta = read();
      expect(firstDelta).to.deep.equal({ activeSeconds: 1, totalSeconds: 2, cpus: 2 });
      unlinkSync(procStatPath);
      // The online file is not what tells the count where /proc/stat reads.
      writeFileSync(onlinePath, '0-5\n');
      const standIn = { ...firstDelta, standIn: `${procStatPath}: ENOENT` };
      expect(read()).to.deep.equal(standIn);
      expect(read()).to.deep.equal(standIn);
      at(1700, 1100, first(3));
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
      at(1000, 1000, first(4));
      expect(createHostCpuReader({ procStatPath, onlinePath, cpus: 2 })().cpus).to.equal(2);
    });
  });
});
