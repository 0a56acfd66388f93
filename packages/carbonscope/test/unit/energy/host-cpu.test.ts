import { spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createHostCpuReader, parseProcStatHead } from '../../../src/energy/host-cpu.js';
import { countCpuList } from '../../../src/energy/online-cpus.js';
import { tempDir } from './sources/helpers.js';

//           user nice system idle iowait irq softirq steal guest guest_nice
const stat = (v: number[]) =>
  `cpu  ${v.join(' ')}\ncpu0 ${v.join(' ')}\nintr 12345 0 0\nctxt 999\n`;

describe('energy/host-cpu', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('hostcpu'));
  });
  afterEach(() => cleanup());

  it('gives deltas of the aggregate line in CPU-seconds (USER_HZ 100); guest is not added twice', () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat([1000, 10, 500, 9000, 100, 20, 30, 5, 400, 0]));
    const read = createHostCpuReader({ procStatPath: path, cpus: 2 });
    writeFileSync(path, stat([1100, 10, 550, 9300, 120, 25, 35, 15, 440, 0]));
    // active = 100 + 0 + 50 + 5 + 5 = 160 ticks; idle + iowait + steal = 300 + 20 + 10 = 330
    expect(read()).to.deep.equal({ activeSeconds: 1.6, totalSeconds: 4.9, cpus: 2 });
    expect(read()).to.deep.equal({ activeSeconds: 0, totalSeconds: 0, cpus: 2 });
  });

  it('counts steal in the wall time but not as busy: the hypervisor ran another guest then', () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat([1000, 0, 500, 9000, 100, 0, 0, 50, 0, 0]));
    const read = createHostCpuReader({ procStatPath: path, cpus: 2 });
    // 1 s on 2 vCPUs that always wanted to run, 30 % of it stolen: they ran 1.4 CPU-s of 2.
    writeFileSync(path, stat([1120, 0, 520, 9000, 100, 0, 0, 110, 0, 0]));
    expect(read()).to.deep.equal({ activeSeconds: 1.4, totalSeconds: 2, cpus: 2 });
  });

  it('never returns a negative delta when the aggregate shrinks (a CPU went offline)', () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat([1000, 0, 500, 9000, 100, 0, 0, 0, 0, 0]));
    const read = createHostCpuReader({ procStatPath: path, cpus: 1 });
    writeFileSync(path, stat([900, 0, 400, 8000, 100, 0, 0, 0, 0, 0]));
    expect(read()).to.deep.equal({ activeSeconds: 0, totalSeconds: 0, cpus: 1 });
  });

  it('gives no total where idle went back while busy time grew (a CPU went offline under NO_HZ)', () => {
    // An offline CPU's idle is read from its tick count, not its NO_HZ idle time: the aggregate's
    // idle drops by whatever the two differ by, 4,900 s here. Busy time still grew by 1.5 s on
    // the 3 CPUs left: the interval's total is not known, and the sampler takes its wall time
    // times the CPUs instead (not 1.5 s, which read as 100 % busy).
    const path = join(dir, 'stat');
    writeFileSync(path, stat([1000, 0, 500, 600_000, 100, 0, 0, 0, 0, 0]));
    const read = createHostCpuReader({ procStatPath: path, cpus: 3 });
    writeFileSync(path, stat([1100, 0, 550, 110_150, 100, 0, 0, 0, 0, 0]));
    expect(read()).to.deep.equal({ activeSeconds: 1.5, totalSeconds: 0, cpus: 3 });
    writeFileSync(path, stat([1200, 0, 600, 110_300, 100, 0, 0, 0, 0, 0]));
    expect(read()).to.deep.equal({ activeSeconds: 1.5, totalSeconds: 3, cpus: 3 });
  });

  /** Busy for `ms` of wall time, so host CPU times move by several 10 ms ticks. */
  const spin = (ms: number) => {
    const start = performance.now();
    while (performance.now() - start < ms) {
      // spin
    }
  };

  it('parses the real /proc/stat of this machine: time moves, and this spin is busy time', () => {
    const read = createHostCpuReader();
    spin(60);
    const d = read();
    // A reader returning zeros must fail here: 60 ms on at least one CPU is 6 ticks or more.
    expect(d.totalSeconds).to.be.greaterThan(0);
    expect(d.activeSeconds).to.be.greaterThan(0);
    expect(d.totalSeconds).to.be.at.least(d.activeSeconds);
    expect(d.cpus).to.be.at.least(1);
  });

  it("counts this machine's CPUs online from /proc/stat as /sys/devices/system/cpu/online does", () => {
    // Both are printed from the kernel's cpu_online_mask: one read gives what two did.
    const list = readFileSync('/sys/devices/system/cpu/online');
    const online = countCpuList(list, list.length);
    expect(online).to.be.a('number');
    expect(createHostCpuReader()().cpus).to.equal(online);
  });

  it('falls back to os.cpus() when /proc/stat is missing', () => {
    const read = createHostCpuReader({ procStatPath: join(dir, 'missing') });
    spin(60);
    const d = read();
    expect(d.totalSeconds).to.be.greaterThan(0);
    expect(d.activeSeconds).to.be.greaterThan(0);
    expect(d.totalSeconds).to.be.at.least(d.activeSeconds);
  });

  it('neither /proc/stat nor os.cpus() (a /proc mounted subset=pid): says so, and counts the CPUs it may run on', () => {
    const missing = join(dir, 'missing');
    // No /sys either, or its online count would stand (a cpuset makes the two differ).
    const read = createHostCpuReader({
      procStatPath: missing,
      onlinePath: missing,
      listCpus: () => [],
    });
    expect(read()).to.deep.equal({
      activeSeconds: 0,
      totalSeconds: 0,
      cpus: availableParallelism(),
      unread:
        `cannot read ${missing} (ENOENT) and os.cpus() lists no CPU (a /proc mounted with ` +
        "subset=pid, as systemd's ProcSubset=pid does)",
    });
  });

  /** A reader of a scripted /proc/stat (2 CPUs, 10,500 ticks), and the misses it was told. */
  const scripted = () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat([1000, 0, 500, 9000, 0, 0, 0, 0, 0, 0]));
    const errors: string[] = [];
    const onReadError = (reason: string) => errors.push(reason);
    return {
      path,
      errors,
      read: createHostCpuReader({ procStatPath: path, cpus: 2, onReadError }),
    };
  };

  it('takes a failed read of /proc/stat for a miss, not its end: the last delta stands in', () => {
    // Under `ulimit -n` exhaustion (EMFILE) the open fails for a while. The reader used to switch
    // to os.cpus() for good, which fails too (it returns no CPU), and then counted from zero: its
    // first delta was all the CPU time since boot, and the process's share of it none.
    const { path, errors, read } = scripted();
    writeFileSync(path, stat([1100, 0, 550, 9350, 0, 0, 0, 0, 0, 0]));
    const first = read();
    expect(first).to.deep.equal({ activeSeconds: 1.5, totalSeconds: 5, cpus: 2 });
    unlinkSync(path);
    // Marked as a stand-in, with why: the reports said nothing of the figures resting on it.
    const standIn = { ...first, standIn: `${path}: ENOENT` };
    expect(read()).to.deep.equal(standIn);
    expect(read()).to.deep.equal(standIn);
    expect(errors).to.have.length(2);
    expect(errors[0]).to.equal(`${path}: ENOENT`);
    // Three intervals since the last good read: their delta, at one interval's size.
    writeFileSync(path, stat([1400, 0, 700, 10100, 0, 0, 0, 0, 0, 0]));
    expect(read()).to.deep.equal({ activeSeconds: 1.5, totalSeconds: 4, cpus: 2 });
  });

  it('a miss before any delta is the floor, not an idle host: no last delta stands in', () => {
    const { path, read } = scripted();
    unlinkSync(path);
    // It returned { 0, 0, 2 }: 0 busy seconds, an idle host modelled for the interval.
    expect(read()).to.deep.equal({
      activeSeconds: 0,
      totalSeconds: 0,
      cpus: 2,
      unread: `${path}: ENOENT`,
    });
    writeFileSync(path, stat([1100, 0, 550, 9350, 0, 0, 0, 0, 0, 0]));
    // Two intervals since creation, at one interval's size.
    expect(read()).to.deep.equal({ activeSeconds: 0.75, totalSeconds: 2.5, cpus: 2 });
  });

  it('says why each miss failed, not the reason of an earlier one', () => {
    // The open's error code was kept: a later read that opened but found no cpu line was told
    // as the earlier ENOENT.
    const { path, errors, read } = scripted();
    unlinkSync(path);
    read();
    writeFileSync(path, 'intr 12345 0 0\n');
    read();
    expect(errors).to.deep.equal([`${path}: ENOENT`, `${path}: no cpu line`]);
  });

  // A child under `ulimit -n 40` runs `body` with the reader's module as `m`, `exhaust()` (opens
  // /dev/null until EMFILE), `free()` and `spin(ms)`, and prints what `body` returns as JSON.
  const underFdLimit = <T>(body: string): T => {
    const hostCpu = new URL('../../../src/energy/host-cpu.js', import.meta.url).href;
    const script = `import(${JSON.stringify(hostCpu)}).then((m) => {
      const fs = require('node:fs');
      const held = [];
      const exhaust = () => { try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch {} };
      const free = () => { for (const fd of held.splice(0)) fs.closeSync(fd); };
      const spin = (ms) => { const t = performance.now(); while (performance.now() - t < ms); };
      process.stdout.write(JSON.stringify((() => { ${body} })()));
    })`;
    const child = spawnSync(
      'bash',
      ['-c', 'ulimit -n 40 && exec "$0" -e "$1"', process.execPath, script],
      { encoding: 'utf8' },
    );
    expect(child.stdout, child.stderr).to.not.equal('');
    return JSON.parse(child.stdout) as T;
  };
  interface Delta {
    totalSeconds: number;
    activeSeconds: number;
    cpus: number;
    unread?: string;
  }

  it('keeps /proc/stat open: out of file descriptors after its first read, it reads on (real EMFILE, ulimit -n 40)', () => {
    // It used to open /proc/stat at each read: under EMFILE the read missed and the last delta
    // stood in. The descriptor is kept since stop 74 (~45 µs of a cold read): no miss at all.
    const out = underFdLimit<{ held: number; errors: string[]; during: Delta; after: Delta }>(`
      const errors = [];
      const read = m.createHostCpuReader({ onReadError: (reason) => errors.push(reason) });
      spin(30);
      read();
      exhaust();
      const count = held.length;
      spin(30);
      const during = read();
      free();
      spin(30);
      return { held: count, errors, during, after: read() };`);
    expect(out.held).to.be.greaterThan(0);
    expect(out.errors).to.deep.equal([]);
    for (const delta of [out.during, out.after]) {
      expect(delta.unread).to.equal(undefined);
      // A spin of ~30 ms, on every CPU at most: read anew, not since boot (hours of CPU time).
      expect(delta.totalSeconds).to.be.greaterThan(0);
      expect(delta.totalSeconds).to.be.below(5 * delta.cpus);
    }
  });

  it('one descriptor of /proc/stat serves every reader, kept between reads; the CPUs online come from it, their file unread', () => {
    const out = underFdLimit<{ before: string[]; after: string[] }>(`
      const kernel = ['/proc/stat', '/sys/devices/system/cpu/online'];
      const open = () => fs.readdirSync('/proc/self/fd').map((fd) => {
        try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; }
      }).filter((target) => kernel.includes(target)).sort();
      const before = open();
      const readers = [m.createHostCpuReader(), m.createHostCpuReader()];
      for (let i = 0; i < 3; i++) for (const read of readers) read();
      return { before, after: open() };`);
    expect(out.before).to.deep.equal([]);
    // /sys/devices/system/cpu/online was a second descriptor, read at each sample (stop 74).
    expect(out.after).to.deep.equal(['/proc/stat']);
  });

  // Other code may close the kept descriptor (a loop closing every descriptor, a double close)
  // and the number go to a file of its own: the reader read that file for the rest of the process
  // ("no cpu line", a stand-in for good), and would close it after a failed read.
  it('a kept descriptor closed by other code, its number reused: /proc/stat opened anew, the other file left alone', () => {
    const out = underFdLimit<{
      reused: boolean;
      errors: string[];
      delta: Delta;
      otherOpen: boolean;
    }>(`
      const errors = [];
      const target = (fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } };
      const read = m.createHostCpuReader({ onReadError: (reason) => errors.push(reason) });
      spin(30);
      read();
      const keptFd = fs.readdirSync('/proc/self/fd').map(Number).find((fd) => target(fd) === '/proc/stat');
      fs.closeSync(keptFd);
      const extra = [];
      let other = fs.openSync(process.execPath, 'r');
      while (other !== keptFd && extra.length < 30) { extra.push(other); other = fs.openSync(process.execPath, 'r'); }
      for (const fd of extra) fs.closeSync(fd);
      spin(30);
      const delta = read();
      return { reused: other === keptFd, errors, delta, otherOpen: target(other) === fs.realpathSync(process.execPath) };`);
    expect(out.reused, 'the closed number went to the other file').to.equal(true);
    expect(out.errors).to.deep.equal([]);
    expect(out.delta.unread).to.equal(undefined);
    expect(out.delta.totalSeconds).to.be.greaterThan(0);
    expect(out.delta.totalSeconds).to.be.below(5 * out.delta.cpus);
    expect(out.otherOpen, 'the other file is still open').to.equal(true);
  });

  it('out of file descriptors at creation: /proc/stat stays its source, not os.cpus()', () => {
    // EMFILE at creation was taken for a /proc/stat that is not there: the reader went to
    // os.cpus() for good (empty meanwhile, "a /proc mounted with subset=pid"; then milliseconds
    // without iowait and steal) though /proc/stat read again as soon as descriptors freed up.
    const out = underFdLimit<{ listed: number; during: Delta; first: Delta; after: Delta }>(`
      let listed = 0;
      exhaust();
      const read = m.createHostCpuReader({ cpus: 2, listCpus: () => { listed += 1; return []; } });
      const during = read();
      free();
      const first = read();
      spin(30);
      return { listed, during, first, after: read() };`);
    expect(out.listed).to.equal(0);
    expect(out.during).to.deep.equal({
      activeSeconds: 0,
      totalSeconds: 0,
      cpus: 2,
      unread: '/proc/stat: EMFILE',
    });
    // The first read that gets through is only a baseline: still the floor, not an idle host
    // (it gave 0 busy seconds, and the estimate modelled an idle host for that interval). Marked
    // as the baseline: the next delta covers no interval before it.
    expect(out.first).to.deep.equal({
      activeSeconds: 0,
      totalSeconds: 0,
      cpus: 2,
      unread: '/proc/stat: EMFILE',
      baseline: true,
    });
    expect(out.after.totalSeconds).to.be.greaterThan(0);
    expect(out.after.totalSeconds).to.be.below(10);
  });

  it('rejects a head that is not the aggregate cpu line', () => {
    const out = { active: -1, total: -1 };
    const bytes = new TextEncoder().encode('intr 1 2 3\n');
    expect(parseProcStatHead(bytes, bytes.length, out)).to.equal(false);
    expect(out.active).to.equal(-1);
  });
});
