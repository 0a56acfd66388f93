import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  type ChildEvents,
  ChildrenCpu,
  EnergyTracker,
  metersItself,
  READS_PER_SAMPLE,
  type StatReader,
  type WatchedChild,
  watchChildExits,
} from '../../../src/energy/index.js';
import { Sampler } from '../../../src/energy/sampler.js';
import { parseProcStat } from '../../../src/proc/index.js';
import { constantSource, ScriptedClock, ScriptedCpu, sampleAt } from './scripted.js';
import { tempDir } from './sources/helpers.js';

/** A /proc the test rewrites: each pid's stat line, utime stime cutime cstime in ticks. */
class ScriptedProc {
  constructor(private readonly dir: string) {}
  set(pid: number | 'self', times: [number, number, number, number], start = 900): void {
    // `pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice threads itrealvalue starttime`, a name with spaces.
    const head = [
      pid === 'self' ? 4242 : pid,
      '(node (srv) x)',
      'S',
      1,
      1,
      1,
      0,
      -1,
      0,
      0,
      0,
      0,
      0,
    ];
    writeFileSync(this.path(pid), `${[...head, ...times, 20, 0, 11, 0, start].join(' ')}\n`);
  }
  gone(pid: number): void {
    rmSync(this.path(pid), { force: true });
  }
  private path(pid: number | 'self'): string {
    return join(this.dir, `${pid}.stat`);
  }
  readonly read: StatReader = (pid, out) => {
    let text: string;
    try {
      text = readFileSync(this.path(pid), 'utf8');
    } catch {
      return false;
    }
    const parsed = parseProcStat(text);
    if (!parsed) return false;
    Object.assign(out, parsed);
    return true;
  };
}

/** The loop's next pass: the exits told before are settled. */
const nextPass = () => new Promise((resolve) => setImmediate(resolve));

/** A child watch the test drives by hand. */
function scriptedWatch() {
  const state: { events?: ChildEvents; closed: boolean } = { closed: false };
  const watch = (events: ChildEvents) => {
    state.events = events;
    return () => {
      state.closed = true;
    };
  };
  /** `end()` says it was reaped (its exit code set) whether or not its exit was told. */
  const child = (pid: number | undefined, self = false): WatchedChild & { end(): void } => {
    let ended = false;
    return {
      pid: () => pid,
      metersItself: () => self,
      ended: () => ended,
      end: () => {
        ended = true;
      },
    };
  };
  return { state, watch, child };
}

describe('children CPU (/proc/<pid>/stat while they run, cutime + cstime once reaped)', () => {
  const { dir, cleanup } = tempDir('children');
  after(cleanup);

  it('counts what the reaped children used since it opened, in seconds', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [50, 7, 300, 100]); // children reaped before: not this meter's
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    expect(reader?.seconds()).to.equal(0);
    const python = w.child(101);
    w.state.events?.started(python);
    proc.set('self', [50, 7, 320, 105]); // reaped: 0.25 s
    w.state.events?.exited(python);
    expect(reader?.seconds()).to.be.closeTo(0.25, 1e-9);
    proc.set('self', [50, 7, 330, 105]); // spawnSync's child: no exit told, counted at the read
    expect(reader?.seconds()).to.be.closeTo(0.35, 1e-9);
  });

  it('counts a long child as it runs, then replaces what was read by its whole time at its exit', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    const ffmpeg = w.child(202);
    w.state.events?.started(ffmpeg);
    proc.set(202, [90, 10, 0, 0]); // 1 s in
    expect(reader?.seconds()).to.be.closeTo(1, 1e-9);
    proc.set(202, [180, 15, 4, 1]); // 2 s in, a helper it waited for included
    expect(reader?.seconds()).to.be.closeTo(2, 1e-9);
    proc.gone(202);
    proc.set('self', [0, 0, 230, 20]); // reaped: 2.5 s in all
    w.state.events?.exited(ffmpeg);
    expect(reader?.seconds()).to.be.closeTo(2.5, 1e-9);
  });

  it('sets aside a child that meters itself (a Node child under register), counting the rest', async () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    const gzip = w.child(301);
    const worker = w.child(302, true);
    const ffmpeg = w.child(303);
    for (const c of [gzip, worker, ffmpeg]) w.state.events?.started(c);
    proc.set(302, [4000, 1000, 0, 0]); // never read: it measures itself
    proc.set('self', [0, 0, 10, 0]);
    w.state.events?.exited(gzip); // 0.1 s
    await nextPass();
    proc.set('self', [0, 0, 4010, 1000]); // the worker's whole life, 50 s
    w.state.events?.exited(worker);
    await nextPass();
    proc.set('self', [0, 0, 4030, 1000]); // 0.2 s
    w.state.events?.exited(ffmpeg);
    expect(reader?.seconds()).to.be.closeTo(0.3, 1e-9);
  });

  it('sets aside the children reaped in one pass with a Node child under register, whichever libuv tells first', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    const sh = w.child(501); // spawned first: libuv tells of its exit first
    const worker = w.child(502, true);
    for (const c of [sh, worker]) w.state.events?.started(c);
    // Both killed at once and reaped in one pass: cutime + cstime grew by both before either
    // exit was told; the worker's day of CPU, 50 s, must not land here with the shell's 0.1 s.
    proc.set('self', [0, 0, 4010, 1000]);
    w.state.events?.exited(sh);
    w.state.events?.exited(worker);
    expect(reader?.seconds()).to.equal(0);
  });

  it('drops a child whose pid names another process now (its exit unheard)', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    w.state.events?.started(w.child(404));
    w.state.events?.started(w.child(undefined)); // a spawn that failed
    proc.set(404, [40, 0, 0, 0], 900);
    expect(reader?.seconds()).to.be.closeTo(0.4, 1e-9);
    proc.set('self', [0, 0, 50, 0]); // reaped, its 'exit' listeners removed by the application
    proc.set(404, [7000, 0, 0, 0], 5000); // the pid reused by another process
    expect(reader?.seconds()).to.be.closeTo(0.5, 1e-9);
  });

  it('drops a child reaped with its exit unheard, its pid not come round', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    const job = w.child(405);
    w.state.events?.started(job);
    proc.set(405, [40, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(0.4, 1e-9);
    proc.set('self', [0, 0, 50, 0]); // reaped, its 'exit' listeners removed by the application
    job.end();
    proc.gone(405); // and its pid not come round
    expect(reader?.seconds()).to.be.closeTo(0.5, 1e-9);
  });

  it('reads at most READS_PER_SAMPLE running children per sample, however many run', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    let reads = 0;
    const counted: StatReader = (pid, out) => {
      if (pid !== 'self') reads++;
      return proc.read(pid, out);
    };
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: counted, watch: w.watch });
    const running = 2 * READS_PER_SAMPLE;
    for (let pid = 1000; pid < 1000 + running; pid++) {
      w.state.events?.started(w.child(pid));
      proc.set(pid, [1, 0, 0, 0]);
    }
    for (let sample = 0; sample < 8; sample++) {
      reads = 0;
      reader?.seconds();
      expect(reads, `sample ${sample}`).to.be.at.most(READS_PER_SAMPLE);
    }
    // Every child read within the 8 samples, 1 tick each.
    expect(reader?.seconds()).to.be.closeTo(running / 100, 1e-9);
  });

  it('reads the running children in turn: each within ⌈running / reads⌉ samples, none counted twice', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const readAt = new Map<number, number[]>();
    let sample = 0;
    const counted: StatReader = (pid, out) => {
      if (pid !== 'self') readAt.set(pid, [...(readAt.get(pid) ?? []), sample]);
      return proc.read(pid, out);
    };
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: counted, watch: w.watch, readsPerSample: 4 });
    const workers = Array.from({ length: 10 }, (_, i) => w.child(600 + i));
    const worker = workers[3] as (typeof workers)[number];
    for (const c of workers) w.state.events?.started(c);
    const self = w.child(700, true); // measures itself: never read, takes no turn
    w.state.events?.started(self);
    // Each worker busy: 10 ticks a sample, read or not.
    for (sample = 1; sample <= 6; sample++) {
      for (let i = 0; i < 10; i++) proc.set(600 + i, [10 * sample, 0, 0, 0]);
      reader?.seconds();
    }
    let reads = 0;
    for (let i = 0; i < 10; i++) {
      const at = readAt.get(600 + i) ?? [];
      reads += at.length;
      expect(at[0], `worker ${i} first read`).to.be.at.most(3);
      for (let k = 1; k < at.length; k++) expect((at[k] ?? 0) - (at[k - 1] ?? 0)).to.be.at.most(3);
    }
    expect(reads, '4 reads a sample').to.equal(24);
    expect(readAt.has(700)).to.equal(false);
    // Each last read 2 samples (20 ticks) ago at most: nothing counted twice or lost.
    const late = reader?.seconds() ?? 0;
    expect(late).to.be.at.most(6);
    expect(late).to.be.at.least(6 - (10 * 20) / 100);
    // A worker's exit: cutime + cstime's growth replaces what was read of it, however late.
    proc.set('self', [0, 0, 65, 0]);
    proc.gone(603);
    w.state.events?.exited(worker);
    for (let i = 0; i < 10; i++) if (i !== 3) proc.set(600 + i, [70, 0, 0, 0]);
    for (let s = 0; s < 3; s++) reader?.seconds();
    expect(reader?.seconds()).to.be.closeTo(9 * 0.7 + 0.65, 1e-9);
  });

  it('reads first the children that used CPU since their read before: a busy worker every sample', () => {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch, readsPerSample: 4 });
    // A pool of 40 idle workers; two of them take jobs from the 11th sample on.
    for (let pid = 800; pid < 840; pid++) {
      w.state.events?.started(w.child(pid));
      proc.set(pid, [5, 0, 0, 0]);
    }
    for (let s = 0; s < 10; s++) reader?.seconds();
    expect(reader?.seconds()).to.be.closeTo(2, 1e-9);
    let busy = 0;
    for (let s = 1; s <= 20; s++) {
      busy += 50;
      proc.set(810, [5 + busy, 0, 0, 0]);
      proc.set(835, [5 + busy, 0, 0, 0]);
      const seconds = reader?.seconds() ?? 0;
      // Each found busy within ⌈40 / 4⌉ samples, then read at every one: nothing late.
      if (s >= 10) expect(seconds, `sample ${s}`).to.be.closeTo(2 + (2 * busy) / 100, 1e-9);
    }
  });

  it('is none where /proc/self/stat does not read (macOS, Windows), and stops watching at close', () => {
    const w = scriptedWatch();
    expect(ChildrenCpu.open({ readStat: () => false, watch: w.watch })).to.equal(undefined);
    expect(w.state.events, 'nothing watched').to.equal(undefined);
    const proc = new ScriptedProc(dir);
    proc.set('self', [1, 1, 1, 1]);
    const reader = ChildrenCpu.open({ readStat: proc.read, watch: w.watch });
    reader?.close();
    expect(w.state.closed).to.equal(true);
  });
});

describe('which children meter themselves', () => {
  it('is decided once the child is spawned, not at each sample', async () => {
    const before = process.env.NODE_OPTIONS;
    const seen: WatchedChild[] = [];
    const stop = watchChildExits({ started: (c) => seen.push(c), exited: () => undefined });
    try {
      process.env.NODE_OPTIONS = '--import carbonscope/register';
      const env = { PATH: process.env.PATH ?? '' }; // the child itself loads nothing
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env });
      const one = seen[0];
      expect(one?.metersItself()).to.equal(true);
      process.env.NODE_OPTIONS = before ?? '';
      expect(one?.metersItself(), 'kept').to.equal(true);
      await new Promise((resolve) => child.once('exit', resolve));
    } finally {
      stop();
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
  });

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
