import { expect } from 'chai';
import {
  type ChildrenApp,
  type ChildrenFigures,
  startChildrenApp,
} from '../helpers/spawns-children.js';
import { waitFor } from '../helpers/wait.js';

type Figures = ChildrenFigures;

// Linux only: elsewhere /proc/self/stat does not read and the children's CPU is the host's only.
(process.platform === 'linux' ? describe : describe.skip)(
  '--import carbonscope/register in a service whose requests run non-Node children (sh -c a busy loop, as ffmpeg or a Python script)',
  function () {
    this.timeout(60_000);
    let running: ChildrenApp | undefined;
    let base = '';

    before(async () => {
      running = await startChildrenApp({
        ENERGY_SAMPLE_INTERVAL_MS: '200',
        SH_LOOPS: '150000',
      });
      base = running.base;
    });

    after(async () => {
      await running?.app.stop('SIGKILL');
    });

    const figures = (): Promise<Figures> => (running as ChildrenApp).figures();
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
