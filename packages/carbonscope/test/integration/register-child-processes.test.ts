import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { type Spawned, spawnUntil } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(libraryRoot, 'test', 'fixtures', 'register');

/** What GET /figures of spawns-children.mjs answers. */
interface Figures {
  /** Σ over the meter's samples since the fixture subscribed. */
  processCpuSeconds: number;
  childCpuSeconds: number;
  processJoules: number;
  /** /proc/self/stat now: utime + stime, and cutime + cstime (the reaped children's). */
  ownSeconds: number;
  childrenSeconds: number;
  cpuUsageSeconds: number;
  /** The snapshot's: settled operations of each name and their mean joules. */
  operations: Array<{ operation: string; count: number; joules: number }>;
  processJoulesTotal: number;
}

// Linux only: elsewhere /proc/self/stat does not read and the children's CPU is the host's only.
(process.platform === 'linux' ? describe : describe.skip)(
  '--import carbonscope/register in a service whose requests run non-Node children (sh -c a busy loop, as ffmpeg or a Python script)',
  function () {
    this.timeout(60_000);
    let app: Spawned | undefined;
    let base = '';

    before(async () => {
      app = await spawnUntil(process.execPath, [join(FIXTURES, 'spawns-children.mjs')], {
        cwd: FIXTURES,
        env: childEnv({
          NODE_OPTIONS: '--import carbonscope/register',
          OTEL_METRICS_EXPORTER: 'none',
          ENERGY_SOURCE: 'estimate',
          CARBON_INTENSITY: '300',
          ENERGY_SAMPLE_INTERVAL_MS: '200',
          SH_LOOPS: '150000',
        }),
        waitFor: /^listening \d+$/,
      });
      const port = (app.stdout.find((l) => l.startsWith('listening ')) ?? '').split(' ')[1];
      base = `http://127.0.0.1:${port}`;
    });

    after(async () => {
      await app?.stop('SIGKILL');
    });

    const figures = async (): Promise<Figures> =>
      (await fetch(`${base}/figures`)).json() as Promise<Figures>;
    /**
     * Figures once the samples caught up with every child reaped so far, and none runs (none
     * set aside yet): what the meter counted is then what the kernel gave this process.
     */
    const settled = async (): Promise<Figures> => {
      let last = await figures();
      await waitFor(
        'a sample after the last child exit',
        async () => {
          last = await figures();
          return Math.abs(last.childCpuSeconds - last.childrenSeconds) < 0.011;
        },
        10_000,
      );
      return last;
    };

    it("counts the children's CPU in the process's; Σ operations ≤ process energy", async () => {
      const before = await settled();
      for (let i = 0; i < 3; i++)
        expect(await (await fetch(`${base}/child`)).text()).to.equal('done');
      const after = await settled();
      const children = after.childrenSeconds - before.childrenSeconds;
      const own = after.cpuUsageSeconds - before.cpuUsageSeconds;
      expect(children, 'the children burnt CPU (cutime + cstime)').to.be.at.least(0.15);
      // The meter read the children's CPU the kernel gave this process, tick for tick.
      expect(after.childCpuSeconds - before.childCpuSeconds).to.be.closeTo(children, 0.011);
      // And the process's CPU is its own and theirs (the samples lag a read by one interval).
      const read = after.processCpuSeconds - before.processCpuSeconds;
      expect(read / (own + children)).to.be.within(0.7, 1.3);
      // Σ operations ≤ process energy. Whether /child has its children's part depends on
      // whether a calibration window measured it (register-child-spawner.test.ts: `exact`).
      const sum = after.operations.reduce((s, o) => s + o.count * o.joules, 0);
      expect(sum).to.be.at.most(after.processJoulesTotal * (1 + 1e-9));
    });

    it('counts a long child as it runs, before it is reaped', async () => {
      const before = await settled();
      expect(await (await fetch(`${base}/long`)).text()).to.equal('done');
      const running = await waitFor(
        'a sample that read the running child',
        async () => {
          const f = await figures();
          return f.childCpuSeconds - before.childCpuSeconds >= 0.1 ? f : undefined;
        },
        15_000,
      );
      expect((running as Figures).childrenSeconds, 'not reaped yet').to.equal(
        before.childrenSeconds,
      );
      const after = await settled();
      const children = after.childrenSeconds - before.childrenSeconds;
      expect(after.childCpuSeconds - before.childCpuSeconds).to.be.closeTo(children, 0.011);
    });

    it('sets aside a forked Node child that loads register too: it measures itself', async () => {
      const before = await settled();
      expect(await (await fetch(`${base}/fork`)).text()).to.equal('done');
      const forkChild = (await figures()).childrenSeconds - before.childrenSeconds;
      expect(forkChild, "the fork's child burnt CPU").to.be.at.least(0.1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      const after = await figures();
      expect(after.childCpuSeconds - before.childCpuSeconds).to.be.below(0.02);
    });
  },
);
