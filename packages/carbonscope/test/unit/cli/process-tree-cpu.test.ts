import { expect } from 'chai';
import {
  createProcTreeCpuReader,
  createPsTreeCpuReader,
  descendantsOf,
  type ProcFs,
  parseProcStat,
  parsePsTable,
  parsePsTime,
} from '../../../src/cli/process-tree-cpu.js';

/** A /proc/<pid>/stat line in the kernel's layout (fields 1..17 and a few after). */
function statLine(pid: number, comm: string, ppid: number, ticks: number[]): string {
  const [utime, stime, cutime, cstime] = ticks;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  return `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194304 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 4279 3133440 393\n`;
}

/** A fake /proc whose table the test edits between reads. */
function fakeProc(self: number[]) {
  const table = new Map<number, string>();
  let selfTicks = self;
  const fs: ProcFs = {
    pids: () => [...table.keys()],
    stat: (pid) => (pid === 'self' ? statLine(1, 'carbonscope', 0, selfTicks) : table.get(pid)),
  };
  return {
    fs,
    set: (pid: number, ppid: number, ticks: number[], comm = 'x') =>
      table.set(pid, statLine(pid, comm, ppid, ticks)),
    remove: (pid: number) => table.delete(pid),
    setSelf: (ticks: number[]) => {
      selfTicks = ticks;
    },
  };
}

describe('process tree CPU time', () => {
  it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const stat = parseProcStat(statLine(4242, 'my (odd) name) S 1', 17, [150, 50, 30, 20]));
    expect(stat).to.deep.equal({ pid: 4242, ppid: 17, ownTicks: 200, reapedChildrenTicks: 50 });
    expect(parseProcStat('')).to.equal(undefined);
    expect(parseProcStat('12 (short) S 1 2')).to.equal(undefined);
  });

  it('finds every descendant of a root through ppid links, and nothing else', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 10],
      [20, 1],
      [21, 20],
    ]);
    expect([...descendantsOf(10, parents)].sort()).to.deep.equal([10, 11, 12, 13]);
    expect(descendantsOf(99, parents).size).to.equal(0);
  });

  it('sums the live tree and, once the command is reaped, our own cutime growth', () => {
    const proc = fakeProc([0, 0, 500, 100]); // cutime/cstime from before: the baseline
    const reader = createProcTreeCpuReader(proc.fs);
    expect(reader.read()).to.equal(0); // no root yet: nothing is measured
    reader.setRoot(100);
    proc.set(100, 1, [100, 20, 0, 0]); // the command: 1.2 s
    proc.set(101, 100, [200, 0, 0, 0]); // its child: 2 s
    proc.set(200, 1, [9999, 0, 0, 0]); // a stranger: never counted
    expect(reader.read()).to.be.closeTo(3.2, 1e-9);
    // The grandchild exits and the command reaps it: its time moves into the command's cutime.
    proc.remove(101);
    proc.set(100, 1, [150, 20, 250, 0]);
    expect(reader.read()).to.be.closeTo(4.2, 1e-9);
    // The command exits and we reap it: all of it (1.7 + 2.5 s) shows in our cutime instead.
    proc.remove(100);
    proc.setSelf([0, 0, 500 + 420, 100]);
    expect(reader.read()).to.be.closeTo(4.2, 1e-9);
  });

  it('takes the reaped-children baseline when the root is set, not when the reader is made', () => {
    const proc = fakeProc([0, 0, 500, 100]);
    const reader = createProcTreeCpuReader(proc.fs);
    // An energy-source probe (nvidia-smi, powermetrics) exits and is reaped before the command
    // starts: 3 s more in our cutime that are not the command's.
    proc.setSelf([0, 0, 800, 100]);
    expect(reader.read()).to.equal(0);
    reader.setRoot(100);
    proc.set(100, 1, [100, 0, 0, 0]);
    expect(reader.read()).to.be.closeTo(1, 1e-9);
    // The command exits and is reaped: only its 1 s is added to our cutime.
    proc.remove(100);
    proc.setSelf([0, 0, 900, 100]);
    expect(reader.read()).to.be.closeTo(1, 1e-9);
  });

  it('never goes down when a process vanishes between listing and reading', () => {
    const proc = fakeProc([0, 0, 0, 0]);
    const reader = createProcTreeCpuReader(proc.fs);
    reader.setRoot(100);
    proc.set(100, 1, [300, 0, 0, 0]);
    expect(reader.read()).to.equal(3);
    proc.remove(100); // gone but not yet counted in our cutime
    expect(reader.read()).to.equal(3);
  });

  it('reads the real /proc tree of this process', function () {
    if (process.platform !== 'linux') this.skip();
    const reader = createProcTreeCpuReader();
    reader.setRoot(process.pid);
    const before = reader.read();
    const t = performance.now();
    while (performance.now() - t < 150) {} // burn CPU in the root itself
    expect(reader.read() - before).to.be.greaterThan(0.05);
  });

  it('parses ps time formats of procps, macOS and the BSDs', () => {
    expect(parsePsTime('00:00:03')).to.equal(3);
    expect(parsePsTime('1:02.50')).to.equal(62.5);
    expect(parsePsTime('2-01:00:00')).to.equal(2 * 86400 + 3600);
    expect(parsePsTime('0:00,25')).to.equal(0.25);
    expect(parsePsTime('TIME')).to.equal(undefined);
  });

  it('ps fallback: sums the tree and keeps the last time of a process that exited', () => {
    let output = '  1     0 0:10.00\n 100     1 0:01.00\n 101   100 0:02.00\n 300     1 9:00.00\n';
    const reader = createPsTreeCpuReader(() => output);
    reader.setRoot(100);
    expect(reader.read()).to.equal(3);
    output = '  1     0 0:10.00\n 100     1 0:01.50\n';
    expect(reader.read()).to.equal(3.5); // 101 left with its last seen 2 s
    expect(parsePsTable('garbage\n').size).to.equal(0);
  });
});
