import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ChildWeights } from '../../../src/energy/child-weights.js';
import {
  type ChildCpuAccount,
  type ChildEvents,
  ChildrenCpu,
  type EnergySample,
  EnergyTracker,
  MAX_CHARGED_CHILDREN,
  metersItself,
  type OperationFootprint,
  READS_PER_SAMPLE,
  type StatReader,
  type WatchedChild,
  watchChildExits,
} from '../../../src/energy/index.js';
import { Sampler } from '../../../src/energy/sampler.js';
import { blankProcStat, parseProcStat, realProcFs } from '../../../src/proc/index.js';
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

/** The CPU ms a shell's `times` printed: its own and its children's, user and system. */
function cpuOfTimes(text: string): number {
  let ms = 0;
  for (const [, m, sec] of text.matchAll(/(\d+)m([\d.]+)s/g))
    ms += (Number(m) * 60 + Number(sec)) * 1000;
  return ms;
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
  let dir = '';
  let cleanup = () => {};
  // Made as the suite runs: one a `-g` or a dry run skips would be left behind.
  before(() => {
    ({ dir, cleanup } = tempDir('children'));
  });
  after(() => cleanup());

  it("reads the process's own /proc/self/stat through one descriptor it keeps (stop 74)", () => {
    // Opened and closed at each sample before: ~45 µs of a cold read once a second.
    const ownStat = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${process.pid}/stat`;
        } catch {
          return false; // the listing's own descriptor, closed by now
        }
      }).length;
    const stat = blankProcStat();
    const ticks: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(realProcFs.readStat('self', stat)).to.equal(true);
      ticks.push(stat.ownTicks);
      expect(ownStat()).to.equal(1);
      const until = performance.now() + 30;
      while (performance.now() < until); // CPU time, read anew through the kept descriptor
    }
    expect(ticks[2]).to.be.greaterThan(ticks[0]);
  });

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

/** An operation's account as the tracker gives it, which the test settles by hand. */
const account = (): { childMs: number; closed: boolean } => ({ childMs: 0, closed: false });

describe("children's CPU charged to the operation that spawned them", () => {
  let dir = '';
  let cleanup = () => {};
  // Made as the suite runs: one a `-g` or a dry run skips would be left behind.
  before(() => {
    ({ dir, cleanup } = tempDir('children-charged'));
  });
  after(() => cleanup());

  /** A reader of a scripted /proc whose spawner is `current.account` at each spawn. */
  function charging(maxChargedChildren?: number) {
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const current: { account: ChildCpuAccount | undefined } = { account: undefined };
    // Each reading 10 s after the last on one core, unless a test sets `step` (the most a child
    // can have used is its time since its spawn × the cores).
    const time = { ms: 0, step: 10_000 };
    const reader = ChildrenCpu.open({
      readStat: proc.read,
      watch: w.watch,
      spawner: () => current.account,
      clock: () => (time.ms += time.step),
      cores: 1,
      ...(maxChargedChildren === undefined ? {} : { maxChargedChildren }),
    });
    /** Spawns `pid` with `spawner` current (none: outside any operation). */
    const spawn = (pid: number, spawner?: ChildCpuAccount) => {
      current.account = spawner;
      const child = w.child(pid);
      w.state.events?.started(child);
      current.account = undefined;
      return child;
    };
    return { proc, w, reader, spawn, time };
  }

  it('charges each read of a running child, then the rest its exit holds, to its spawner', async () => {
    const { proc, w, reader, spawn } = charging();
    const request = account();
    const ffmpeg = spawn(202, request);
    spawn(203); // a cron's child: no operation's
    proc.set(202, [90, 10, 0, 0]);
    proc.set(203, [50, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(1.5, 1e-9);
    expect(request.childMs).to.be.closeTo(1000, 1e-9);
    proc.set(202, [180, 15, 4, 1]);
    expect(reader?.seconds()).to.be.closeTo(2.5, 1e-9);
    expect(request.childMs).to.be.closeTo(2000, 1e-9);
    // Reaped: 2.5 s in all, 0.5 s of it not read while it ran.
    proc.gone(202);
    proc.set('self', [0, 0, 230, 20]);
    w.state.events?.exited(ffmpeg);
    await nextPass();
    expect(request.childMs).to.be.closeTo(2500, 1e-9);
    expect(reader?.seconds()).to.be.closeTo(3, 1e-9); // with the cron's child's 0.5 s
  });

  it('charges a short child, never read as it ran, its whole time at its exit', async () => {
    const { proc, w, reader, spawn } = charging();
    const request = account();
    const sh = spawn(210, request);
    proc.set('self', [0, 0, 35, 5]);
    w.state.events?.exited(sh);
    await nextPass();
    expect(request.childMs).to.be.closeTo(400, 1e-9);
    expect(reader?.seconds()).to.be.closeTo(0.4, 1e-9);
  });

  it('charges nothing more to a spawner settled before its child ended: the rest is the process’s alone', async () => {
    const { proc, w, reader, spawn } = charging();
    const request = account();
    const job = spawn(220, request);
    proc.set(220, [30, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(0.3, 1e-9);
    request.closed = true; // the request was settled: its figures are out
    proc.set(220, [60, 0, 0, 0]);
    proc.gone(220);
    proc.set('self', [0, 0, 90, 0]);
    w.state.events?.exited(job);
    await nextPass();
    expect(request.childMs, 'only what was read before it was settled').to.be.closeTo(300, 1e-9);
    expect(reader?.seconds(), 'the process counts all of it').to.be.closeTo(0.9, 1e-9);
  });

  it('splits equally the rest of the children reaped in one pass (one growth for all)', async () => {
    const { proc, w, reader, spawn } = charging();
    const a = account();
    const b = account();
    const ffmpeg = spawn(230, a);
    const convert = spawn(231, b);
    proc.set(230, [20, 0, 0, 0]);
    proc.set(231, [0, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(0.2, 1e-9); // ffmpeg's 0.2 s read as it ran
    expect(a.childMs).to.be.closeTo(200, 1e-9);
    proc.gone(230);
    proc.gone(231);
    proc.set('self', [0, 0, 60, 0]); // both reaped before either exit is told: 0.6 s
    w.state.events?.exited(ffmpeg);
    w.state.events?.exited(convert);
    await nextPass();
    // 0.4 s beyond what was read: which one used it is not known, 0.2 s each.
    expect(a.childMs).to.be.closeTo(400, 1e-9);
    expect(b.childMs).to.be.closeTo(200, 1e-9);
    expect(reader?.seconds()).to.be.closeTo(0.6, 1e-9);
  });

  it(`keeps at most MAX_CHARGED_CHILDREN (${MAX_CHARGED_CHILDREN}) spawners; an exit or a settled spawner makes room`, async () => {
    const { proc, w, reader, spawn } = charging(2);
    const a = account();
    const b = account();
    const c = account();
    const d = account();
    const e = account();
    const first = spawn(240, a);
    spawn(241, b);
    spawn(242, c); // past the bound: no operation's
    for (const pid of [240, 241, 242]) proc.set(pid, [10, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(0.3, 1e-9);
    expect([a.childMs, b.childMs, c.childMs]).to.deep.equal([100, 100, 0]);
    proc.gone(240);
    proc.set('self', [0, 0, 10, 0]);
    w.state.events?.exited(first);
    await nextPass();
    spawn(243, d); // a's room
    b.closed = true;
    proc.set(241, [20, 0, 0, 0]); // b let go at this read
    expect(reader?.seconds()).to.be.closeTo(0.4, 1e-9);
    spawn(244, e); // b's room
    proc.set(243, [10, 0, 0, 0]);
    proc.set(244, [10, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(0.6, 1e-9);
    expect([b.childMs, d.childMs, e.childMs]).to.deep.equal([100, 100, 100]);
  });

  it("gives an exit's spawner no more than its child could use since its spawn: not a spawnSync's CPU reaped in the same interval", async () => {
    const { proc, w, reader, spawn, time } = charging();
    time.step = 0;
    const tiny = account();
    // A request runs spawnSync (0.9 s of sh, reaped before it returns: nothing published), then
    // another spawns `true`, which exits 5 ms later: the growth its exit reads holds both.
    const child = spawn(260, tiny);
    time.ms += 5;
    proc.gone(260);
    proc.set('self', [0, 0, 90, 1]);
    w.state.events?.exited(child);
    await nextPass();
    expect(tiny.childMs, 'at most its 5 ms on one core').to.be.at.most(5 + 1e-9);
    expect(reader?.seconds(), 'the process counts all of it').to.be.closeTo(0.91, 1e-9);
  });

  it('real processes: gives its spawner the rest of a child whose exit wakes the idle loop by SIGCHLD alone (no pipe of it open)', async function () {
    if (process.platform !== 'linux') this.skip();
    const current: { account: ChildCpuAccount | undefined } = { account: undefined };
    const reader = ChildrenCpu.open({ spawner: () => current.account });
    const request = account();
    current.account = request;
    // Says its CPU (`times`: its own, then its children's) into a file: no pipe to wake the loop.
    const said = join(dir, 'sigchld-times');
    const loop = `i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; times > ${said}`;
    const child = spawn('sh', ['-c', loop], { stdio: 'ignore' });
    current.account = undefined;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await new Promise((resolve) => setTimeout(resolve, 20));
      reader?.seconds(); // a sample: it is read as it runs
      // The loop sleeps until the SIGCHLD: libuv's idle time loses a wait that a signal ends,
      // so a clock of "asleep with the loop busy" took this wait for a spawnSync's.
      await exited;
      await nextPass();
      reader?.seconds();
      const used = cpuOfTimes(readFileSync(said, 'utf8'));
      expect(used, 'it used CPU').to.be.above(50);
      // Ticks of 10 ms: what was read as it ran and its exit's rest, all of it.
      expect(request.childMs).to.be.closeTo(used, 20);
    } finally {
      child.kill();
      reader?.close();
    }
  });

  it('lets go of a settled spawner at the next read of its child even when the child is idle (a daemon left running)', () => {
    const { proc, reader, spawn } = charging(1);
    const a = account();
    const b = account();
    spawn(250, a); // `sleep 3600`: it never uses CPU
    proc.set(250, [0, 0, 0, 0]);
    expect(reader?.seconds()).to.equal(0);
    a.closed = true; // the request that spawned it was settled
    expect(reader?.seconds()).to.equal(0); // read again: its room (and the operation) let go
    spawn(251, b);
    proc.set(251, [10, 0, 0, 0]);
    expect(reader?.seconds()).to.be.closeTo(0.1, 1e-9);
    expect(b.childMs, 'the room the idle child held').to.equal(100);
  });
});

describe("the tracker's charge of a child's CPU to its spawner", () => {
  let dir = '';
  let cleanup = () => {};
  // Made as the suite runs: one a `-g` or a dry run skips would be left behind.
  before(() => {
    ({ dir, cleanup } = tempDir('children-tracker'));
  });
  after(() => cleanup());
  // A tracker that measures CPU keeps async hooks on until it stops.
  const trackers: EnergyTracker[] = [];
  afterEach(() => {
    for (const tracker of trackers.splice(0)) tracker.stop();
  });

  /** A sample of `joules` for `ownSeconds` of the process's own CPU and `childSeconds`. */
  const sampleOf = (ms: number, joules: number, ownSeconds: number, childSeconds: number) => {
    const sample: EnergySample = sampleAt(ms, joules, 0, false, 1000, ownSeconds + childSeconds);
    return childSeconds > 0 ? { ...sample, childCpuSeconds: childSeconds } : sample;
  };

  /** A tracker before any sample or baseline, with what it ended and each name's joules. */
  function newTracker(attribution: 'exact' | 'calibrated') {
    const clock = new ScriptedClock(0);
    const tracker = new EnergyTracker({ clock: clock.now, loopIdle: clock.loopIdle, attribution });
    trackers.push(tracker);
    const ended: OperationFootprint[] = [];
    tracker.onEnd((f) => ended.push(f));
    const joules = (name: string) =>
      ended.filter((f) => f.operation === name).reduce((s, f) => s + f.joules, 0);
    return { clock, tracker, ended, joules };
  }

  /**
   * /early, begun and ended before the meter's baseline, which comes 500 ms later: its child's
   * account, which read `readMs` of CPU by then (the meter's prime).
   */
  function endedBeforeBaseline({ clock, tracker }: ReturnType<typeof newTracker>, readMs: number) {
    const early = tracker.begin('/early');
    let account: ChildCpuAccount | undefined;
    early.run(() => {
      clock.advance(10);
      account = tracker.childAccount();
    });
    (account as ChildCpuAccount).childMs += readMs;
    early.end();
    clock.idle(500);
    tracker.baseline(false);
    return account as ChildCpuAccount;
  }

  /** A tracker after its first sample (in `calibrated`, the first window opens there). */
  function trackerIn(attribution: 'exact' | 'calibrated' = 'exact') {
    const made = newTracker(attribution);
    made.tracker.update(sampleAt(made.clock.ms, 0, 0, false, 1000, 0));
    return made;
  }

  it("exact: the spawning operation takes its children's part at the process's price; Σ operations ≤ process", () => {
    const { clock, tracker, ended, joules } = trackerIn();
    const spawn = tracker.begin('/spawn');
    const idle = tracker.begin('/idle');
    let charged: ChildCpuAccount | undefined;
    expect(tracker.childAccount(), 'outside any operation').to.equal(undefined);
    spawn.run(() => {
      clock.advance(10);
      charged = tracker.childAccount();
    });
    idle.run(() => clock.advance(10));
    expect(charged).to.not.equal(undefined);
    (charged as ChildCpuAccount).childMs += 400; // ChildrenCpu's reads
    spawn.end();
    idle.end();
    clock.idle(980);
    // 4.2 J for 0.42 s of CPU: 0.02 s the process's own (10 ms each), 0.4 s the child's.
    tracker.update(sampleOf(clock.ms, 4.2, 0.02, 0.4));
    expect(joules('/spawn')).to.be.closeTo(0.1 + 4, 1e-9);
    expect(joules('/idle')).to.be.closeTo(0.1, 1e-9);
    expect(ended.reduce((s, f) => s + f.joules, 0)).to.be.at.most(4.2 + 1e-9);
    expect(charged?.closed, 'settled: it takes nothing more').to.equal(true);
  });

  it('never gives the operations more than the children used in the interval (charged more, scaled down)', () => {
    const { clock, tracker, ended, joules } = trackerIn();
    const a = tracker.begin('a');
    const b = tracker.begin('b');
    const accounts: Array<ChildCpuAccount | undefined> = [];
    a.run(() => accounts.push(tracker.childAccount()));
    b.run(() => accounts.push(tracker.childAccount()));
    for (const one of accounts) (one as ChildCpuAccount).childMs += 300; // 0.6 s charged
    a.end();
    b.end();
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 4, 0, 0.4)); // the sample holds 0.4 s of children
    expect(joules('a')).to.be.closeTo(2, 1e-9);
    expect(joules('b')).to.be.closeTo(2, 1e-9);
    expect(ended.reduce((s, f) => s + f.joules, 0)).to.be.at.most(4 + 1e-9);
  });

  // register tracks requests before the meter's baseline (tracker.baseline): an operation ended
  // before it is in no reading, so its children's CPU of then is no part of the first interval.
  it("gives an operation ended before the meter's baseline none of its children's part", () => {
    const { clock, tracker, joules } = newTracker('exact');
    const early = tracker.begin('/early');
    early.run(() => {
      clock.advance(10);
      (tracker.childAccount() as ChildCpuAccount).childMs += 400;
    });
    early.end();
    clock.idle(500); // the probe
    tracker.baseline(false);
    const later = tracker.begin('/later');
    later.run(() => {
      clock.advance(10);
      (tracker.childAccount() as ChildCpuAccount).childMs += 200;
    });
    later.end();
    clock.idle(980);
    // 2.1 J for 0.21 s of CPU in the first interval: 0.01 s /later's own, 0.2 s its child's.
    tracker.update(sampleOf(clock.ms, 2.1, 0.01, 0.2));
    expect(joules('/early')).to.equal(0);
    expect(joules('/later')).to.be.closeTo(2.1, 1e-9);
  });

  // Its row is kept until the first sample, as any operation's until the sample after its end:
  // a child it spawned before the baseline (while the grid intensity was fetched, after the
  // probe) and read after it used CPU of the first interval, which went to no operation.
  it("gives an operation ended before the meter's baseline its children's CPU from the baseline on", () => {
    const made = newTracker('exact');
    const { clock, tracker, ended, joules } = made;
    const account = endedBeforeBaseline(made, 400);
    const later = tracker.begin('/later');
    later.run(() => {
      clock.advance(10);
      (tracker.childAccount() as ChildCpuAccount).childMs += 200;
    });
    later.end();
    account.childMs += 300; // read after it, at the first sample
    clock.idle(980);
    // 5.1 J for 0.51 s of CPU: 0.01 s /later's own, 0.2 s its child's, 0.3 s /early's child's.
    tracker.update(sampleOf(clock.ms, 5.1, 0.01, 0.5));
    expect(joules('/early')).to.be.closeTo(3, 1e-9);
    expect(joules('/later')).to.be.closeTo(2.1, 1e-9);
    expect(ended.reduce((s, f) => s + f.joules, 0)).to.be.at.most(5.1 + 1e-9);
    expect(account.closed, 'settled: it takes nothing more').to.equal(true);
  });

  // Their claims are scaled with the others' to what the sample read of the children: counted
  // apart, /early's 0.3 s went on top of a scale that gave the running one all it claimed.
  it("scales the children's CPU of an operation ended before the baseline with the others' (Σ ≤ process)", () => {
    const made = newTracker('exact');
    const { clock, tracker, ended, joules } = made;
    const account = endedBeforeBaseline(made, 0);
    const stream = tracker.begin('/stream');
    stream.run(() => {
      clock.advance(10);
      (tracker.childAccount() as ChildCpuAccount).childMs += 200;
    });
    account.childMs += 300;
    clock.idle(980);
    // 2.6 J for 0.26 s of CPU: 0.01 s /stream's own, 0.25 s of the children's, whose accounts
    // claim 0.5 s (0.2 + 0.3): each gets half of its claim.
    tracker.update(sampleOf(clock.ms, 2.6, 0.01, 0.25));
    stream.end();
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 0, 0, 0));
    expect(joules('/early')).to.be.closeTo(1.5, 1e-9);
    expect(joules('/stream')).to.be.closeTo(1.1, 1e-9);
    expect(ended.reduce((s, f) => s + f.joules, 0)).to.be.at.most(2.6 + 1e-9);
  });

  it('charges a running operation at each sample its children used CPU in', () => {
    const { clock, tracker, joules } = trackerIn();
    const stream = tracker.begin('/stream');
    let charged: ChildCpuAccount | undefined;
    stream.run(() => {
      clock.advance(10);
      charged = tracker.childAccount();
    });
    (charged as ChildCpuAccount).childMs += 200;
    clock.idle(990);
    tracker.update(sampleOf(clock.ms, 2.1, 0.01, 0.2));
    (charged as ChildCpuAccount).childMs += 100;
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 1, 0, 0.1));
    stream.end();
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 0, 0, 0));
    expect(joules('/stream')).to.be.closeTo(0.1 + 2 + 1, 1e-9);
  });

  it('calibrated: a spawn is charged inside a calibration window, and nothing is kept between windows', () => {
    const clock = new ScriptedClock(0);
    const tracker = new EnergyTracker({
      clock: clock.now,
      loopIdle: clock.loopIdle,
      attribution: 'calibrated',
    });
    trackers.push(tracker);
    const op = tracker.begin('/spawn');
    expect(
      op.run(() => tracker.childAccount()),
      'before any window',
    ).to.equal(undefined);
    op.end();
    clock.idle(1000);
    tracker.update(sampleAt(clock.ms, 0, 0, false, 1000, 0)); // the first window opens
    const inWindow = tracker.begin('/spawn');
    expect(
      inWindow.run(() => tracker.childAccount()),
      'in a window',
    ).to.not.equal(undefined);
    inWindow.end();
    clock.idle(1000);
    tracker.update(sampleAt(clock.ms, 0, 0, false, 1000, 0)); // it closes
    const after = tracker.begin('/spawn');
    expect(
      after.run(() => tracker.childAccount()),
      'between windows',
    ).to.equal(undefined);
    after.end();
    tracker.stop();
  });

  it("calibrated: between windows an ended operation takes its name's children's CPU per operation, out of what no measured one took", () => {
    const { clock, tracker, ended, joules } = trackerIn('calibrated'); // the first window is open
    // Begun in the window, it lasts past it (a window is one sample interval): measured still.
    const measured = tracker.begin('/spawn');
    const charged = measured.run(() => {
      clock.advance(10);
      return tracker.childAccount();
    });
    (charged as ChildCpuAccount).childMs += 300;
    clock.idle(990);
    tracker.update(sampleOf(clock.ms, 3.1, 0.01, 0.3)); // the window closes
    measured.end();
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 0, 0, 0)); // settled: /spawn, 300 ms of children each
    expect(joules('/spawn')).to.be.closeTo(0.1 + 3, 1e-9);
    // Between windows: two /spawn end, guessed 300 ms each, the sample holds 400 ms.
    for (const op of [tracker.begin('/spawn'), tracker.begin('/spawn')]) {
      expect(op.run(() => tracker.childAccount())).to.equal(undefined);
      op.end();
    }
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 4, 0, 0.4));
    expect(ended).to.have.length(3);
    for (const f of ended.slice(1)) expect(f.joules).to.be.closeTo(2, 1e-9);
    // One that runs across a sample: its child is read while it runs. Its name's density (300
    // ms of children for 1,000 ms of running) × its time at that sample, then at its end its
    // figure's part for its time in the last interval (1,000 of 2,000 ms).
    const long = tracker.begin('/spawn');
    clock.idle(1000);
    tracker.update(sampleOf(clock.ms, 3, 0, 0.3));
    clock.idle(1000);
    long.end();
    tracker.update(sampleOf(clock.ms, 1.5, 0, 0.15));
    expect(ended).to.have.length(4);
    expect(ended[3]?.joules).to.be.closeTo(3 + 1.5, 1e-9);
    // A cron's children (no operation spawned them): nothing to /idle, which never spawned.
    const idle = tracker.begin('/idle');
    idle.run(() => clock.advance(10));
    idle.end();
    clock.idle(990);
    tracker.update(sampleOf(clock.ms, 5.1, 0.01, 0.5));
    expect(joules('/idle')).to.be.closeTo(0.1, 1e-9);
    expect(ended.reduce((s, f) => s + f.joules, 0)).to.be.at.most(3.1 + 4 + 4.5 + 5.1 + 1e-9);
    tracker.stop();
  });

  it('calibrated: between windows a sample walks no ended operation to learn children (none began in a window)', () => {
    const { clock, tracker } = trackerIn('calibrated'); // the first window is open
    const measured = tracker.begin('/spawn');
    measured.run(() => clock.advance(10));
    clock.idle(990);
    tracker.update(sampleOf(clock.ms, 1, 0.01, 0)); // the window closes
    // Counts the ended operations looked at: learnChildren's walk goes through op(i).
    const inner = tracker as unknown as {
      ended: { op(i: number): unknown };
      learnChildren(): void;
    };
    const op = inner.ended.op.bind(inner.ended);
    let looked = 0;
    inner.ended.op = (i: number) => {
      looked++;
      return op(i);
    };
    for (let i = 0; i < 1000; i++) tracker.begin('/spawn').end();
    inner.learnChildren();
    expect(looked, '1,000 ended between windows').to.equal(0);
    measured.end(); // begun in the window: its children's CPU is learnt
    inner.learnChildren();
    expect(looked).to.equal(1001);
    inner.learnChildren();
    expect(looked, 'once only').to.equal(1001);
    tracker.stop();
  });

  it("ChildWeights: a name's mean over its operations, earlier windows' halved; names that spawned only, at most maxNames", () => {
    const weights = new ChildWeights(2);
    expect(weights.empty).to.equal(true);
    weights.observe('/idle', 0, 300, 1);
    weights.observe('/a', 300, 400, 1);
    weights.observe('/a', 100, 400, 1);
    weights.commit();
    expect(weights.of('/a')).to.equal(200);
    expect(weights.of('/idle')).to.equal(0);
    expect(weights.empty).to.equal(false);
    // Ended, its part of the figure by the time it ran in the interval; running, the density.
    expect(weights.guess('/a', 100, 400)).to.equal(50);
    expect(weights.guess('/a', 100, Number.NaN)).to.equal(50);
    expect(weights.guess('/idle', 100, Number.NaN)).to.equal(0);
    weights.observe('/a', 500, 400, 2);
    weights.commit();
    expect(weights.of('/a')).to.equal((500 + 0.5 * 400) / (1 + 0.5 * 2));
    weights.observe('/b', 50, 100, 2);
    weights.observe('/c', 70, 100, 2);
    weights.commit();
    expect(weights.of('/b')).to.equal(50);
    expect(weights.of('/c'), 'no room').to.equal(0);
  });

  it('with ChildrenCpu: the spawner gets its child’s CPU until settled; a later operation none of it', async () => {
    const { clock, tracker, joules } = trackerIn();
    const proc = new ScriptedProc(dir);
    proc.set('self', [0, 0, 0, 0]);
    const w = scriptedWatch();
    const reader = ChildrenCpu.open({
      readStat: proc.read,
      watch: w.watch,
      spawner: () => tracker.childAccount(),
    });
    let counted = reader?.seconds() ?? 0;
    /** A sample as the meter takes it: the children's CPU read now. */
    const sample = (joules: number, ownSeconds: number) => {
      const before = counted;
      counted = reader?.seconds() ?? 0;
      tracker.update(sampleOf(clock.ms, joules, ownSeconds, counted - before));
    };
    const convert = tracker.begin('/convert');
    const idle = tracker.begin('/idle');
    convert.run(() => {
      clock.advance(10);
      w.state.events?.started(w.child(901));
    });
    idle.run(() => clock.advance(10));
    w.state.events?.started(w.child(902)); // outside any operation: a cron's child
    proc.set(901, [30, 0, 0, 0]);
    proc.set(902, [20, 0, 0, 0]);
    convert.end();
    idle.end();
    clock.idle(980);
    // 5.2 J for 0.52 s: 0.02 s own, 0.3 s /convert's child, 0.2 s the cron's (no one's).
    sample(5.2, 0.02);
    expect(joules('/convert')).to.be.closeTo(0.1 + 3, 1e-9);
    expect(joules('/idle')).to.be.closeTo(0.1, 1e-9);
    // /convert is settled; its child runs on 0.3 s: that is the process's, not /later's.
    const later = tracker.begin('/later');
    later.run(() => clock.advance(10));
    later.end();
    proc.set(901, [60, 0, 0, 0]);
    clock.idle(990);
    sample(3.1, 0.01);
    expect(joules('/later')).to.be.closeTo(0.1, 1e-9);
    expect(joules('/convert'), 'nothing more once settled').to.be.closeTo(3.1, 1e-9);
    reader?.close();
    tracker.stop();
  });
});
