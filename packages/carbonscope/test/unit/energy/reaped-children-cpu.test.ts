import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  EnergyTracker,
  metersItself,
  ReapedChildrenCpu,
  type SelfStatReader,
} from '../../../src/energy/index.js';
import { Sampler } from '../../../src/energy/sampler.js';
import { parseProcStat } from '../../../src/proc/index.js';
import { constantSource, ScriptedClock, ScriptedCpu, sampleAt } from './scripted.js';
import { tempDir } from './sources/helpers.js';

/** A /proc/self/stat the test rewrites: utime stime cutime cstime in ticks (USER_HZ 100). */
class ScriptedStat {
  readonly path: string;
  constructor(dir: string) {
    this.path = join(dir, 'stat');
  }
  set(cutime: number, cstime: number): void {
    // `pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice threads itrealvalue starttime`, a name with spaces.
    const fields = [4242, '(node (srv) x)', 'S', 1, 1, 1, 0, -1, 0, 0, 0, 0, 0, 50, 7];
    writeFileSync(this.path, `${[...fields, cutime, cstime, 20, 0, 11, 0, 900].join(' ')}\n`);
  }
  readonly read: SelfStatReader = (out) => {
    const text = readFileOrEmpty(this.path);
    const parsed = text ? parseProcStat(text) : undefined;
    if (!parsed) return false;
    Object.assign(out, parsed);
    return true;
  };
}

function readFileOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A child-exit watch the test fires by hand. */
function scriptedWatch() {
  const state: { onExit?: (self: boolean) => void; closed: boolean } = { closed: false };
  const watch = (onExit: (self: boolean) => void) => {
    state.onExit = onExit;
    return () => {
      state.closed = true;
    };
  };
  return { state, watch, exit: (self: boolean) => state.onExit?.(self) };
}

describe('reaped children CPU (/proc/self/stat cutime + cstime)', () => {
  const { dir, cleanup } = tempDir('children');
  after(cleanup);

  it('counts what the reaped children used since it opened, in seconds', () => {
    const stat = new ScriptedStat(dir);
    stat.set(300, 100); // children reaped before: not this meter's
    const w = scriptedWatch();
    const reader = ReapedChildrenCpu.open({ readStat: stat.read, watch: w.watch });
    expect(reader).to.not.equal(undefined);
    expect(reader?.seconds()).to.equal(0);
    stat.set(320, 105); // a python3 child of 0.25 s reaped
    w.exit(false);
    expect(reader?.seconds()).to.be.closeTo(0.25, 1e-9);
    stat.set(330, 105); // spawnSync's child: no exit told, counted at the read
    expect(reader?.seconds()).to.be.closeTo(0.35, 1e-9);
  });

  it('sets aside a child that meters itself (a Node child under register), counting the rest', () => {
    const stat = new ScriptedStat(dir);
    stat.set(0, 0);
    const w = scriptedWatch();
    const reader = ReapedChildrenCpu.open({ readStat: stat.read, watch: w.watch });
    stat.set(10, 0);
    w.exit(false); // gzip, 0.1 s
    stat.set(4010, 1000); // a cluster worker's whole life, 50 s: its own register counted it
    w.exit(true);
    stat.set(4030, 1000); // ffmpeg, 0.2 s
    w.exit(false);
    expect(reader?.seconds()).to.be.closeTo(0.3, 1e-9);
  });

  it('is none where /proc/self/stat does not read (macOS, Windows), and stops watching at close', () => {
    const w = scriptedWatch();
    expect(ReapedChildrenCpu.open({ readStat: () => false, watch: w.watch })).to.equal(undefined);
    expect(w.state.onExit, 'nothing watched').to.equal(undefined);
    const stat = new ScriptedStat(dir);
    stat.set(1, 1);
    const reader = ReapedChildrenCpu.open({ readStat: stat.read, watch: w.watch });
    reader?.close();
    expect(w.state.closed).to.equal(true);
  });

  it('keeps its last figure when a read fails', () => {
    const stat = new ScriptedStat(dir);
    stat.set(0, 0);
    let fail = false;
    const readStat: SelfStatReader = (out) => !fail && stat.read(out);
    const reader = ReapedChildrenCpu.open({ readStat, watch: scriptedWatch().watch });
    stat.set(50, 0);
    expect(reader?.seconds()).to.be.closeTo(0.5, 1e-9);
    fail = true;
    expect(reader?.seconds()).to.be.closeTo(0.5, 1e-9);
  });
});

describe('which children meter themselves', () => {
  const execPath = '/opt/node/bin/node';
  const facts = (spawnfile: string, spawnargs: string[], nodeOptions?: string) => ({
    spawnfile,
    spawnargs,
    execPath,
    nodeOptions,
  });

  it('a fork with register in its arguments, or a node that inherits NODE_OPTIONS naming it', () => {
    expect(
      metersItself(facts(execPath, [execPath, '--import', 'carbonscope/register', 'job.js'])),
    ).to.equal(true);
    expect(
      metersItself(facts('node', ['node', 'x.js'], '--import carbonscope/register-eager')),
    ).to.equal(true);
  });

  it('not a non-Node child, a node without register, nor one through a shell', () => {
    const options = '--import carbonscope/register';
    expect(metersItself(facts('python3', ['python3', '-c', 'pass'], options))).to.equal(false);
    expect(metersItself(facts('ffmpeg', ['ffmpeg', '-i', 'a.mp4'], options))).to.equal(false);
    expect(metersItself(facts('node', ['node', 'x.js'], undefined))).to.equal(false);
    expect(metersItself(facts('/bin/sh', ['/bin/sh', '-c', 'node x.js'], options))).to.equal(false);
    expect(metersItself(facts('', [], options))).to.equal(false);
  });
});

describe("the process's energy with its reaped children", () => {
  it("holds their CPU in the process's share of the host; the host's figure does not move", () => {
    const run = (children: number) => {
      const clock = new ScriptedClock(0);
      const cpu = new ScriptedCpu();
      let childSeconds = 0;
      const sampler = new Sampler({
        sources: { host: constantSource(20), gpus: [] },
        attribution: 'proportional',
        pue: 1,
        embodiedGramsPerSecond: 0,
        clock: clock.now,
        wallClock: () => 0,
        hostCpu: cpu.hostCpu,
        processCpu: cpu.processCpu,
        childCpu: () => childSeconds,
        intensity: () => undefined,
        onSourceError: () => undefined,
        onProbeError: () => undefined,
        onHostCpuFloor: () => undefined,
      });
      sampler.prime();
      clock.advance(1000);
      // 2 CPUs, 1 s: the host busy 1.5 s, the process 0.1 s itself, its children `children`.
      cpu.interval(1, 0.75, 0.1);
      childSeconds += children;
      return sampler.sample();
    };
    const without = run(0);
    const withChildren = run(0.5);
    expect(without?.hostJoules).to.be.closeTo(20, 1e-9);
    expect(withChildren?.hostJoules).to.be.closeTo(20, 1e-9);
    expect(without?.processJoules).to.be.closeTo((20 * 0.1) / 1.5, 1e-9);
    expect(withChildren?.processJoules).to.be.closeTo((20 * 0.6) / 1.5, 1e-9);
    expect(withChildren?.processCpuSeconds).to.be.closeTo(0.6, 1e-9);
    expect(withChildren?.childCpuSeconds).to.be.closeTo(0.5, 1e-9);
    expect(without?.childCpuSeconds).to.equal(undefined);
  });

  it("gives the operations the process's own part only: Σ operations ≤ process energy", () => {
    const clock = new ScriptedClock(0);
    const tracker = new EnergyTracker({
      clock: clock.now,
      loopIdle: clock.loopIdle,
      attribution: 'wall',
    });
    const ended: number[] = [];
    tracker.onEnd((f) => ended.push(f.joules));
    tracker.update(sampleAt(clock.ms, 0, 0, false, 1000, 0));
    const op = tracker.begin('/child');
    clock.advance(1000);
    op.end();
    // 6 J for 0.6 s of CPU, 0.5 s of it a child's: the operation's own 0.1 s is 1 J.
    tracker.update({ ...sampleAt(clock.ms, 6, 0, false, 1000, 0.6), childCpuSeconds: 0.5 });
    tracker.stop();
    expect(ended).to.have.length(1);
    expect(ended[0]).to.be.closeTo(1, 1e-9);
  });
});
