import { pbkdf2 } from 'node:crypto';
import { expect } from 'chai';
import type {
  ActiveOperation,
  OperationAttribution,
  OperationFootprint,
} from '../../../src/energy/index.js';
import { EnergyTracker, MAX_UNSETTLED, type TrackerOptions } from '../../../src/energy/tracker.js';
import { countPoolInits } from './pool-inits.js';
import { ScriptedClock, sampleAt } from './scripted.js';

/**
 * Work an operation hands to libuv's pool (a real pbkdf2 here) burns CPU on another thread
 * while the main thread runs other operations' code or waits. The clocks are scripted: the
 * main thread's CPU is the loop's busy time, and each sample says what the whole process used.
 */
function setup(
  attribution: OperationAttribution,
  withThreadClock = true,
  options: Partial<TrackerOptions> = {},
) {
  const clock = new ScriptedClock(0);
  const tracker = new EnergyTracker({
    ...options,
    clock: clock.now,
    loopIdle: clock.loopIdle,
    attribution,
    ...(withThreadClock ? { threadCpuClock: () => clock.now() - clock.loopIdle() } : {}),
  });
  const ended: OperationFootprint[] = [];
  tracker.onEnd((f) => ended.push(f));
  let last = 0;
  const sample = (joules: number, cpuSeconds: number, childCpuSeconds?: number) => {
    const at = sampleAt(clock.ms, joules, 0, false, clock.ms - last, cpuSeconds);
    tracker.update(childCpuSeconds === undefined ? at : { ...at, childCpuSeconds });
    last = clock.ms;
  };
  return { clock, tracker, ended, sample };
}

/**
 * `pool` sends a pbkdf2 out (1 ms of its own code around it), `js` runs 30 ms on the main
 * thread meanwhile (then `noOnesMs` of no operation's code), the loop waits 10 ms (`whileOut`
 * runs then), then the job's callback runs (1 ms): the job was out 41 ms, and the process used
 * 40 ms on the pool's thread beside the main thread's 32.
 */
async function poolBesideJs(
  clock: ScriptedClock,
  tracker: EnergyTracker,
  names = { pool: 'pool', js: 'js' },
  whileOut: () => void = () => {},
  noOnesMs = 0,
): Promise<void> {
  const pool = tracker.begin(names.pool);
  const js = tracker.begin(names.js);
  const done = new Promise<void>((resolve) => {
    pool.run(() => {
      pbkdf2('pw', 'salt', 1, 32, 'sha256', () => {
        clock.advance(1);
        resolve();
      });
      clock.advance(1);
    });
  });
  js.run(() => clock.advance(30));
  clock.advance(noOnesMs); // code of no operation, while both are in flight
  clock.idle(10);
  whileOut();
  await done;
  pool.end();
  js.end();
}

function joulesOf(ended: readonly OperationFootprint[], name: string): number {
  return ended.filter((f) => f.operation === name).reduce((sum, f) => sum + f.joules, 0);
}

type Setup = ReturnType<typeof setup>;

/**
 * Calibrated, windows every second: on to a second window, open. The first times its hooks in
 * rounds between immediates first (on Node 24 the pbkdf2 callback's 1 ms, run among them, went
 * to no one), and measures `warm` (an operation's density: 1 CPU ms a ms); each interval after
 * costs 0.1 J a CPU ms. `between` runs in the interval between the two windows.
 */
async function toSecondWindow(
  { clock, tracker, ended, sample }: Setup,
  between: () => void = () => {},
): Promise<void> {
  clock.idle(1000);
  sample(0, 0); // opens the first window
  for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve));
  tracker.track('warm', () => clock.advance(100));
  clock.idle(900);
  sample(10, 0.1);
  between();
  clock.advance(100);
  clock.idle(900);
  sample(10, 0.1); // opens the second window
  expect(tracker.measuringCpu).to.equal(true);
  ended.length = 0;
}

/** `pool` over `js`, run between windows for 42 ms each: what the window learned of each. */
function learnedRatio({ clock, tracker, ended, sample }: Setup): number {
  ended.length = 0;
  const pool = tracker.begin('pool');
  const js = tracker.begin('js');
  clock.advance(42);
  pool.end();
  js.end();
  clock.idle(500);
  sample(7.2, 0.072);
  return joulesOf(ended, 'pool') / joulesOf(ended, 'js');
}

describe("other threads' CPU: work out on libuv's pool", () => {
  const trackers: EnergyTracker[] = [];
  afterEach(() => {
    for (const t of trackers.splice(0)) t.stop();
  });

  it('goes to the operation whose job was out, not to the one on the main thread (exact)', async () => {
    const { clock, tracker, ended, sample } = setup('exact');
    trackers.push(tracker);
    clock.idle(1000);
    sample(0, 0);
    await poolBesideJs(clock, tracker);
    // 72 ms of process CPU, 7.2 J: pool 2 ms of its own + the pool thread's 40, js 30.
    sample(7.2, 0.072);
    expect(joulesOf(ended, 'pool')).to.be.closeTo(4.2, 1e-9);
    expect(joulesOf(ended, 'js')).to.be.closeTo(3.0, 1e-9);
  });

  it('counts a job still out at a sample in the interval it ran in, not only when it is back', async () => {
    const { clock, tracker, ended, sample } = setup('exact');
    trackers.push(tracker);
    clock.idle(1000);
    sample(0, 0);
    // The sample comes while the job is out (its callback has not run): 40 ms on the pool's
    // thread in this interval, the job out 41 ms so far.
    await poolBesideJs(clock, tracker, undefined, () => sample(7.2, 0.072));
    sample(0.1, 0.001); // its callback's 1 ms: back with no time between, no more pool work
    expect(joulesOf(ended, 'pool')).to.be.closeTo(4.2 + 0.1, 1e-9);
    expect(joulesOf(ended, 'js')).to.be.closeTo(3.0, 1e-9);
  });

  it('takes no more than its time out: the rest of the other threads stays overhead', async () => {
    const { clock, tracker, ended, sample } = setup('exact');
    trackers.push(tracker);
    clock.idle(1000);
    sample(0, 0);
    await poolBesideJs(clock, tracker);
    // 200 ms on other threads (the GC's helpers too): the job was out 41 ms, it gets 41.
    sample(23.2, 0.232);
    const pool = joulesOf(ended, 'pool');
    const js = joulesOf(ended, 'js');
    expect(pool / js).to.be.closeTo(43 / 30, 1e-9);
    // Neither is a request: the rest is no one's, and the two share the interval alike.
    expect(pool + js).to.be.closeTo(23.2, 1e-9);
  });

  it("gives the pool's operation no part of the children's CPU in the same sample", async () => {
    const { clock, tracker, ended, sample } = setup('exact');
    trackers.push(tracker);
    clock.idle(1000);
    sample(0, 0);
    await poolBesideJs(clock, tracker, { pool: 'pool', js: 'js' }, () => {}, 20);
    // The process's own CPU: its main thread's 52 ms and the pool thread's 40, beside its
    // children's 500 ms; 59.2 J, 9.2 J of it its own. Beyond the main thread's, 40 ms were other
    // threads' (not 540, the children's too, which would give `pool` the 41 ms its job was out):
    // `pool` 42 ms against js's 30.
    tracker.update({
      ...sampleAt(clock.ms, 59.2, 0, false, clock.ms - 1000, 0.592),
      childCpuSeconds: 0.5,
    });
    const pool = joulesOf(ended, 'pool');
    const js = joulesOf(ended, 'js');
    expect(pool / js).to.be.closeTo(42 / 30, 1e-9);
    expect(pool + js).to.be.at.most(9.2 + 1e-9);
  });

  it("a calibration window's figure of a name includes its pool work, for the intervals after", async () => {
    const { clock, tracker, ended, sample } = setup('calibrated');
    trackers.push(tracker);
    clock.idle(1000);
    sample(0, 0); // opens the first window
    // It first times the hooks in rounds between immediates; on Node 24 the pbkdf2 callback's
    // 1 ms, run among them, went to no one: the scenario comes after them.
    for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve));
    await poolBesideJs(clock, tracker);
    clock.idle(500);
    sample(7.2, 0.072); // the window's interval: measured, as in exact
    expect(joulesOf(ended, 'pool')).to.be.closeTo(4.2, 1e-9);
    // Between windows no hook runs: each name's CPU is what the window saw of it.
    expect(learnedRatio({ clock, tracker, ended, sample })).to.be.closeTo(42 / 30, 1e-9);
  });

  it('is measured, not crowded out in a window by a guess for an operation begun before it', async () => {
    // A stream begun between windows, of a name no window saw: in the window its weight is its
    // kind's density × its time there, a guess scaled to what the measured ones leave. The pool
    // job's CPU is measured (its time out): it went to the guess, and the window learned `pool`
    // at its 2 ms on the main thread, for every interval until the next window.
    const at = setup('calibrated', true, { calibrationIntervalMs: 1000 });
    const { clock, tracker, ended, sample } = at;
    trackers.push(tracker);
    let stream: ActiveOperation | undefined;
    await toSecondWindow(at, () => {
      stream = tracker.begin('stream');
    });
    await poolBesideJs(clock, tracker);
    sample(7.2, 0.072);
    stream?.end();
    expect(joulesOf(ended, 'pool')).to.be.closeTo(4.2, 1e-9);
    expect(joulesOf(ended, 'js')).to.be.closeTo(3.0, 1e-9);
    expect(learnedRatio(at)).to.be.closeTo(42 / 30, 1e-9);
  });

  it('is measured, not crowded out in a window by a guess for an operation begun in it', async () => {
    // `job` begun and ended in the window without run(): nothing measured of it, its weight a
    // guess. Measured, the main thread and the pool job hold all the process's CPU: the guess
    // keeps nothing (the calibrated names are not shown too high, the pool's CPU is theirs).
    const at = setup('calibrated', true, { calibrationIntervalMs: 1000 });
    const { clock, tracker, ended, sample } = at;
    trackers.push(tracker);
    await toSecondWindow(at);
    const job = tracker.begin('job');
    await poolBesideJs(clock, tracker);
    job.end();
    sample(7.2, 0.072);
    expect(joulesOf(ended, 'pool')).to.be.closeTo(4.2, 1e-9);
    expect(joulesOf(ended, 'js')).to.be.closeTo(3.0, 1e-9);
    expect(joulesOf(ended, 'job')).to.equal(0);
  });

  it("leaves the main thread's work at the sample that opens a window to no pool job", async () => {
    // The process's CPU of a window's interval is read from before the sample that opens it:
    // that sample's own work (settling, a drop listener's: 5 ms here) is the main thread's,
    // not other threads'. The pool job was out 41 ms, its thread used 30.
    let extra = 0;
    const at = setup('calibrated', false, {
      calibrationIntervalMs: 1000,
      maxOperationAgeMs: 2500,
      threadCpuClock: () => at.clock.now() - at.clock.loopIdle() + extra,
    });
    const { clock, tracker, ended, sample } = at;
    trackers.push(tracker);
    tracker.onDrop(() => {
      extra += 5;
    });
    tracker.begin('old'); // dropped at the sample that opens the second window
    await toSecondWindow(at);
    expect(extra).to.equal(5);
    await poolBesideJs(clock, tracker);
    const req = tracker.begin('req', 'request');
    req.run(() => clock.advance(5));
    req.end();
    sample(7.2, 0.072); // 32 + 5 ms of operations, the listener's 5, the pool thread's 30
    expect(joulesOf(ended, 'pool')).to.be.closeTo(3.2, 1e-9);
    expect(joulesOf(ended, 'js')).to.be.closeTo(3.0, 1e-9);
    // The listener's 5 ms are no callback's: the request's overhead, as the rest unclaimed.
    expect(joulesOf(ended, 'req')).to.be.closeTo(1.0, 1e-9);
  });

  // register tracks requests before its power sources are probed: a job out across the meter's
  // baseline was out before it too, in no reading. Charged its whole time out at the first
  // sample, it took the pool's CPU of that interval from a job that ran wholly in it.
  it("counts a job out across the meter's baseline only from there (exact)", async () => {
    const { clock, tracker, ended, sample } = setup('exact');
    trackers.push(tracker);
    const sent = (op: ActiveOperation) =>
      new Promise<void>((resolve) => {
        op.run(() => {
          pbkdf2('pw', 'salt', 1, 32, 'sha256', () => {
            clock.advance(1);
            resolve();
          });
          clock.advance(1);
        });
      });
    const early = tracker.begin('early');
    const earlyBack = sent(early);
    clock.idle(20); // the probe: out 21 ms before the baseline
    tracker.baseline(false);
    const late = tracker.begin('late');
    const lateBack = sent(late);
    clock.idle(40);
    await Promise.all([earlyBack, lateBack]);
    early.end();
    late.end();
    // Since the baseline, each job out about 41 ms: 80 ms on the pool's thread, 3 on the main.
    sample(8.3, 0.083);
    const ratio = joulesOf(ended, 'early') / joulesOf(ended, 'late');
    expect(ratio).to.be.closeTo(1, 0.1);
  });

  it('without a clock of the main thread, the pool thread goes to the one on the main thread', async () => {
    // What happened before, and still where no thread clock can be read (see thread-cpu.ts).
    const { clock, tracker, ended, sample } = setup('exact', false);
    trackers.push(tracker);
    clock.idle(1000);
    sample(0, 0);
    await poolBesideJs(clock, tracker);
    sample(7.2, 0.072);
    expect(joulesOf(ended, 'pool')).to.be.below(joulesOf(ended, 'js'));
  });

  it('is not followed without a clock of the main thread: no init hook runs (exact, a window)', async () => {
    // The process's clock has the pool's CPU in the callbacks' readings already (Node 20), and
    // the hook cost every async resource of the process a call while measuring, for nothing.
    const inits = countPoolInits();
    // The init hook's calls while `run` sends a pool job out, in `exact` or in a window.
    const poolJob = async (run: Setup, inWindow: boolean) => {
      inits.count = 0;
      trackers.push(run.tracker);
      if (inWindow) await toSecondWindow(run);
      else {
        run.clock.idle(1000);
        run.sample(0, 0);
      }
      await poolBesideJs(run.clock, run.tracker);
      run.tracker.stop();
      return inits.count;
    };
    let exact: number;
    let calibrated: number;
    let withThreadClock: number;
    try {
      exact = await poolJob(setup('exact', false), false);
      calibrated = await poolJob(setup('calibrated', false, { calibrationIntervalMs: 1000 }), true);
      withThreadClock = await poolJob(setup('exact'), false); // where it runs, the count sees it
    } finally {
      inits.restore();
    }
    expect(exact).to.equal(0);
    expect(calibrated).to.equal(0);
    expect(withThreadClock).to.be.above(0);
  });
});

describe("one sample with children's CPU, pool CPU and rows reported early", () => {
  const trackers: EnergyTracker[] = [];
  afterEach(() => {
    for (const t of trackers.splice(0)) t.stop();
  });

  /**
   * All three at once, 0.1 J a CPU ms throughout: the pool job's thread (40 ms) and the GC's
   * helpers (20 ms) beside the main thread, a child's 500 ms, and rows past MAX_UNSETTLED.
   */
  async function allThree(attribution: OperationAttribution) {
    const at = setup(attribution, true, { calibrationIntervalMs: 1000 });
    const { clock, tracker, ended, sample } = at;
    trackers.push(tracker);
    // 0.1 J a CPU ms: the price of the rows reported early.
    if (attribution === 'calibrated') await toSecondWindow(at);
    else {
      clock.idle(1000);
      sample(0, 0);
      clock.advance(100);
      clock.idle(900);
      sample(10, 0.1);
    }
    await poolBesideJs(clock, tracker);
    const req = tracker.begin('req', 'request');
    req.run(() => clock.advance(5));
    req.end();
    // Those past the bound (903 rows, 9.03 J at that price) stay within the 10 J of the interval
    // before that no operation had: all they may take (see spareJoules in the tracker).
    const rows = MAX_UNSETTLED + 900;
    for (let i = 0; i < rows; i++) tracker.track('row', () => clock.advance(0.1));
    const mainMs = 32 + 5 + rows * 0.1;
    const ownMs = mainMs + 40 + 20;
    const childMs = 500;
    // Those past the bound were reported as they ended, provisional.
    const early = ended.filter((f) => f.provisional).length;
    return { clock, tracker, ended, early, sample, rows, mainMs, ownMs, childMs };
  }

  function byName(ended: readonly OperationFootprint[]): Record<string, number> {
    const sums: Record<string, number> = {};
    for (const f of ended) sums[f.operation] = (sums[f.operation] ?? 0) + f.joules;
    return sums;
  }

  for (const attribution of ['exact', 'calibrated'] as const) {
    it(`${attribution}: each part where the README says, and Σ operations = the process’s own energy`, async () => {
      const { ended, early, sample, rows, ownMs, childMs } = await allThree(attribution);
      const cpu = (ownMs + childMs) / 1000;
      sample(cpu * 100, cpu, childMs / 1000);
      expect(early).to.equal(rows + 3 - MAX_UNSETTLED); // pool, js and req wait too
      const sums = byName(ended);
      // Other threads' 60 ms to the operation whose job was out, up to its 41 ms out (the threads
      // are not told apart), the rest (the GC's helpers) to the request as overhead, the child's
      // CPU to no one.
      expect(sums.pool).to.be.closeTo((2 + 41) * 0.1, 1e-6);
      expect(sums.js).to.be.closeTo(30 * 0.1, 1e-6);
      expect(sums.req).to.be.closeTo((5 + 19) * 0.1, 1e-6);
      expect(sums.row).to.be.closeTo(rows * 0.1 * 0.1, 1e-6);
      const all = Object.values(sums).reduce((a, b) => a + b, 0);
      expect(all).to.be.closeTo(ownMs * 0.1, 1e-6);
      expect(all).to.be.below(cpu * 100);
    });
  }
});
