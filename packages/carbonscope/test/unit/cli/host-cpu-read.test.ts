import { unlinkSync, writeFileSync } from 'node:fs';
import type { CpuInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { HostCpuMean } from '../../../src/cli/host-cpu-read.js';
import type { HostCpuReaderOptions } from '../../../src/energy/host-cpu.js';
import { meterOnHostCpu } from '../energy/host-cpu-meter.js';
import { tempDir } from '../energy/sources/helpers.js';

//           user nice system idle iowait irq softirq steal guest guest_nice (USER_HZ ticks)
const stat = (busy: number, idle: number) => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`;

/** os.cpus() of one CPU with these cumulative ms; empty (a /proc mounted subset=pid) for null. */
function cpuList(times: { busy: number; idle: number } | null): () => readonly CpuInfo[] {
  return () =>
    times === null
      ? []
      : [
          {
            model: 'test',
            speed: 0,
            times: { user: times.busy, nice: 0, sys: 0, idle: times.idle, irq: 0 },
          },
        ];
}

/** A meter on the real host CPU reader (meterOnHostCpu), its samples into a HostCpuMean. */
async function meanOn(reader: HostCpuReaderOptions) {
  const { cs, interval } = await meterOnHostCpu(reader);
  const mean = new HostCpuMean();
  /** Each sample's hostCpuReadMs: 0 where it was not read (monitor's `CPU not read`). */
  const readMs: number[] = [];
  cs.onSample((s) => {
    mean.add(s);
    readMs.push(s.hostCpuReadMs);
  });
  return { cs, mean, readMs, interval };
}

describe('HostCpuMean: the CSV and JSON host CPU busy share', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('host-cpu-mean'));
  });
  afterEach(() => cleanup());

  // With /proc/stat unreadable (a bind mount over it, as /proc mounted subset=pid) monitor's
  // CSV said cpu_utilization_percent 0.0 and --json cpuUtilizationPercent 0 on a machine at
  // 100 %: the intervals a stand-in gave (monitor's, 0) were averaged as readings.
  it('is null where no interval was read, not the stand-in', async () => {
    const { cs, mean, interval } = await meanOn({
      procStatPath: join(dir, 'missing'),
      listCpus: cpuList(null),
    });
    for (let i = 0; i < 3; i++) interval();
    expect(mean.percent()).to.equal(null);
    await cs.stop();
  });

  // A read after a gap (/proc/stat failing: EMFILE) holds the gap's CPU time, its busy share the
  // average over the gap and its own interval. Weighed as its own interval alone, that average
  // counted for a third of its time: 60 % here, where the machine was busy 400 of 800 ticks.
  it('weighs a read after a gap by the time it covers, the gap included', async () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat(1000, 1000));
    const { cs, mean, readMs, interval } = await meanOn({ procStatPath: path });
    writeFileSync(path, stat(1160, 1040)); // 80 % of 1 s
    interval();
    unlinkSync(path);
    interval(); // the last reading stands in: no reading
    interval();
    writeFileSync(path, stat(1400, 1400)); // 40 % over the 3 s since the last read
    interval();
    expect(readMs).to.deep.equal([1000, 0, 0, 3000]);
    expect(mean.percent()).to.be.closeTo((400 / 800) * 100, 1e-9);
    await cs.stop();
  });

  // Before the reader's first read no delta is known; the read that then gets through only sets
  // its baseline. The next one covers its own interval, not the unread ones before that baseline.
  it('weighs the first read after none could be made by its own interval', async () => {
    const times = { busy: 0, idle: 0 };
    let listed = false;
    const list = cpuList(times);
    const { cs, mean, readMs, interval } = await meanOn({
      procStatPath: join(dir, 'missing'),
      listCpus: () => (listed ? list() : []),
    });
    interval();
    interval();
    listed = true;
    interval(); // the baseline
    times.busy += 600; // 30 % of 2000 ms
    times.idle += 1400;
    interval();
    times.busy += 1400; // 70 %
    times.idle += 600;
    interval();
    expect(readMs).to.deep.equal([0, 0, 0, 1000, 1000]);
    expect(mean.percent()).to.be.closeTo(50, 1e-9);
    await cs.stop();
  });

  it('is null before any sample', () => {
    expect(new HostCpuMean().percent()).to.equal(null);
  });
});
