import { expect } from 'chai';
import {
  type ChildrenApp,
  type ChildrenFigures,
  startChildrenApp,
} from '../helpers/spawns-children.js';
import { waitFor } from '../helpers/wait.js';

type Figures = ChildrenFigures;

const countOf = (f: Figures, operation: string) =>
  f.operations.find((o) => o.operation === operation)?.count ?? 0;
/** Σ joules of an operation's settled operations (the snapshot gives their mean). */
const joulesOf = (f: Figures, operation: string) => {
  const o = f.operations.find((one) => one.operation === operation);
  return o ? o.count * o.joules : 0;
};

const ROUNDS = 3;

/**
 * A service under register whose GET /child waits on a `sh -c` busy loop (~0.4 s of CPU here)
 * and GET /idle on a timer as long, in the attribution mode `env` sets; `warmUp` /child requests
 * first (the default mode learns a name's children from those begun in calibration windows).
 */
function spawnerSpec(title: string, env: Record<string, string>, warmUp: number, least: number) {
  // Linux only: elsewhere /proc/self/stat does not read and the children's CPU is the host's only.
  (process.platform === 'linux' ? describe : describe.skip)(title, function () {
    this.timeout(90_000);
    let running: ChildrenApp | undefined;
    let base = '';

    before(async () => {
      running = await startChildrenApp({
        SH_LOOPS: '300000',
        IDLE_MS: '300',
        ...env,
      });
      base = running.base;
    });

    after(async () => {
      await running?.app.stop('SIGKILL');
    });

    const figures = (): Promise<Figures> => (running as ChildrenApp).figures();
    const get = async (path: string) =>
      expect(await (await fetch(base + path)).text()).to.equal('done');

    /** Figures once every child reaped is counted, and `counts` operations of each are settled. */
    const settled = (counts: Record<string, number> = {}): Promise<Figures> =>
      waitFor(
        'the samples caught up with the children reaped and the operations ended',
        async () => {
          const f = await figures();
          const caughtUp = Math.abs(f.childCpuSeconds - f.childrenSeconds) < 0.011;
          const all = Object.entries(counts).every(([name, n]) => countOf(f, name) >= n);
          return caughtUp && all ? f : undefined;
        },
        15_000,
      ) as Promise<Figures>;

    it("gives /child its children's part of the process's energy, /idle none; Σ operations ≤ process", async () => {
      for (let i = 0; i < warmUp; i++) await get('/child');
      const before = await settled({ '/child': warmUp });
      for (let i = 0; i < ROUNDS; i++) {
        await get('/child');
        await get('/idle');
      }
      const after = await settled({
        '/child': countOf(before, '/child') + ROUNDS,
        '/idle': countOf(before, '/idle') + ROUNDS,
      });
      const children = after.childrenSeconds - before.childrenSeconds;
      const own = after.cpuUsageSeconds - before.cpuUsageSeconds;
      const processJoules = after.processJoules - before.processJoules;
      const child = joulesOf(after, '/child') - joulesOf(before, '/child');
      const idle = joulesOf(after, '/idle') - joulesOf(before, '/idle');
      const cpuShare = children / (own + children);
      const energyShare = child / processJoules;
      const seen = `children ${children.toFixed(2)} s, own ${own.toFixed(3)} s (CPU share ${cpuShare.toFixed(3)}); /child ${child.toFixed(3)} J, /idle ${idle.toFixed(4)} J of ${processJoules.toFixed(3)} J (share ${energyShare.toFixed(3)})`;
      if (process.env.CARBONSCOPE_SPEC_FIGURES) console.log(`      ${seen}`);
      expect(children, `the children burnt CPU: ${seen}`).to.be.at.least(0.2 * ROUNDS);
      // Its children's CPU share of the process's, give or take the samples' lag and what ran
      // between the requests (the figures route, the timers): before, /child was charged its
      // own JS alone, ~1 % of the process's energy for ~95 % of its CPU.
      expect(energyShare, seen).to.be.at.least(least * cpuShare);
      expect(idle, seen).to.be.below(child / 20);
      // Σ operations ≤ process energy.
      const sum = after.operations.reduce((s, o) => s + o.count * o.joules, 0);
      expect(sum, seen).to.be.at.most(after.processJoulesTotal * (1 + 1e-9));
    });
  });
}

spawnerSpec(
  'ENERGY_OPERATION_ATTRIBUTION=exact: the request that spawned a non-Node child (sh -c a busy loop, as ffmpeg or a Python script) is charged its CPU',
  { ENERGY_OPERATION_ATTRIBUTION: 'exact', ENERGY_SAMPLE_INTERVAL_MS: '200' },
  0,
  0.75,
);

// Windows of one 1 s sample every 2 s: a /child begun in one is measured (and teaches the
// name's children's CPU per request); one begun between them is charged that figure.
spawnerSpec(
  'the default (calibrated) attribution: a request begun in a calibration window is charged its children, one between windows its name’s figure',
  { ENERGY_SAMPLE_INTERVAL_MS: '1000', ENERGY_CALIBRATION_INTERVAL_MS: '1000' },
  10,
  0.7,
);
