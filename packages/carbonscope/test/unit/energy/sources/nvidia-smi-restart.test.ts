import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { install } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import type { PowerSource } from '../../../../src/energy/index.js';
import { nvidiaSmiSourceWith } from '../../../../src/energy/sources/nvidia-smi.js';
import type { RestartDelays } from '../../../../src/energy/sources/restart-backoff.js';
import { waitFor } from '../../../helpers/wait.js';
import {
  captureLogger,
  countingSpawn,
  dyingStandIn,
  goneAndBack,
  pastPendingRestarts,
  STAND_IN_START_MS as SLOW,
  startsIn,
  tempDir,
  writeFakeBinary,
} from './helpers.js';

/** A stand-in for nvidia-smi (dyingStandIn) that prints `gpuLines` every 20 ms. */
const dyingSmi = (dir: string, gpuLines = '0, GPU-a, NVIDIA L4, 70.00\n') =>
  dyingStandIn(dir, gpuLines);

/**
 * Polls `check` until it holds, for SLOW ms at most, on hrtime: waitFor reads performance.now(),
 * which a fake installed by the test stands still, so it never timed out and a failure hung.
 */
async function realWait(what: string, check: () => boolean): Promise<void> {
  const until = process.hrtime.bigint() + BigInt(SLOW) * 1_000_000n;
  while (!check()) {
    if (process.hrtime.bigint() > until) throw new Error(`no ${what} within ${SLOW} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Reader {
  source: PowerSource;
  warnings: ReturnType<typeof captureLogger>['warnings'];
  /** Children started so far, counted as each is spawned (a binary that is gone counts too). */
  spawns(): number;
}

/** An nvidia-smi source on `binary`, every 20 ms, probed: its first child prints. */
async function startReader(binary: string, restartBackoffMs: RestartDelays): Promise<Reader> {
  const { logger, warnings } = captureLogger();
  const { lineChild, spawns } = countingSpawn();
  const source = nvidiaSmiSourceWith(
    { logger, intervalMs: 20, binary, probeTimeoutMs: 20_000, restartBackoffMs },
    lineChild,
  );
  expect((await source.probe()).ok).to.equal(true);
  return { source, warnings, spawns };
}

// A reader that died mid-run was never started again: one warning, and the GPUs' energy went
// unread until the app restarted (an nvidia-smi that exited 3 s in: 18 partial intervals by 22 s).
describe('energy/sources/nvidia-smi restarts', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('nvidia-restart'));
  });
  afterEach(() => cleanup());

  it('starts a child that died again after a back-off: one warning when it goes, one when it reads again', async () => {
    const { binary, die } = dyingSmi(dir);
    const { source, warnings, spawns } = await startReader(binary, { firstMs: 50, maxMs: 400 });
    writeFileSync(die, '');
    await waitFor('its readings back', () => warnings().length >= 2, SLOW);
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      'nvidia-smi: child ended (exit 15); GPU energy goes unread until it is started again (in 50 ms)',
      'nvidia-smi: reads again: gpu0 is counted again from its next line',
    ]);
    await source.close();
    expect(spawns()).to.equal(2);
  });

  it('names every GPU it reads again, in one warning', async () => {
    const lines = '0, GPU-a, NVIDIA L4, 70.00\n1, GPU-b, NVIDIA L4, 71.00\n';
    const { binary, die } = dyingSmi(dir, lines);
    const { source, warnings } = await startReader(binary, { firstMs: 50, maxMs: 400 });
    writeFileSync(die, '');
    await waitFor('its readings back', () => warnings().length >= 2, SLOW);
    expect(warnings()[1]?.msg).to.equal(
      'nvidia-smi: reads again: gpu0, gpu1 are counted again from their next lines',
    );
    await source.close();
  });

  it('a child that keeps dying: one warning for the outage, starts spaced by the doubling back-off', async () => {
    // This one prints a line and dies at its first start; at every later one, it dies at once.
    const starts = join(dir, 'starts');
    const binary = writeFakeBinary(
      dir,
      'nvidia-smi',
      `const fs = require('node:fs');
const n = (fs.existsSync(${JSON.stringify(starts)}) ? fs.readFileSync(${JSON.stringify(starts)}, 'utf8').length : 0);
fs.appendFileSync(${JSON.stringify(starts)}, 'x');
if (n > 0) process.exit(3);
process.stdout.write('0, GPU-a, NVIDIA L4, 70.00\\n');
setTimeout(() => process.exit(3), 100);`,
    );
    const { source, warnings, spawns } = await startReader(binary, { firstMs: 40, maxMs: 160 });
    // 40, 80, 160, 160 ms: 5 starts within ~0.5 s; without the back-off, hundreds.
    const t0 = performance.now();
    await waitFor('five starts', () => spawns() >= 5, SLOW);
    const spent = performance.now() - t0;
    await source.close();
    const after = spawns();
    expect(spent).to.be.at.least(40 + 80 + 160 + 160 - 20);
    // One line for the outage, however many starts failed in it.
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      'nvidia-smi: child ended (exit 3); GPU energy goes unread until it is started again (in 40 ms)',
    ]);
    // Nothing is started after close().
    await pastPendingRestarts({ firstMs: 40, maxMs: 160 });
    expect(spawns()).to.equal(after);
  });

  it('a binary gone for good: said once, tried again at the cap only, none after close()', async () => {
    const { binary, die, starts } = dyingSmi(dir);
    const { source, warnings, spawns } = await startReader(binary, { firstMs: 30, maxMs: 120 });
    await goneAndBack(binary, die, warnings);
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      'nvidia-smi: child ended (exit 15); GPU energy goes unread until it is started again (in 30 ms)',
      `nvidia-smi: ${binary} not found; tried again every 120 ms until it is`,
      'nvidia-smi: reads again: gpu0 is counted again from its next line',
    ]);
    await source.close();
    const closedAt = spawns();
    // It ran twice, its tries while gone between; none after close().
    expect(startsIn(starts)).to.equal(2);
    await pastPendingRestarts({ firstMs: 30, maxMs: 120 });
    expect(spawns()).to.equal(closedAt);
  });

  it('no restart after close(), though the child dies as it is stopped', async () => {
    const { binary } = dyingSmi(dir);
    const { source, warnings, spawns } = await startReader(binary, { firstMs: 10, maxMs: 10 });
    await source.close();
    await pastPendingRestarts({ firstMs: 10, maxMs: 10 });
    expect(spawns()).to.equal(1);
    expect(warnings()).to.deep.equal([]);
  });

  // A healthy run starts the back-off over, as the run is timed on real time: under a runner's
  // fake timers performance.now() stood still (sinon 15 fakes node:perf_hooks' own), every run
  // looked 0 ms long, and a reader that died once an hour waited the longest wait each time.
  for (const faked of [false, true]) {
    it(`a run as long as the longest wait starts the back-off over${faked ? ', under fake timers' : ''}`, async () => {
      const { binary, die } = dyingSmi(dir);
      const { source, warnings } = await startReader(binary, { firstMs: 50, maxMs: 200 });
      const clock = faked ? install({ toFake: ['performance'] }) : undefined;
      try {
        writeFileSync(die, '');
        await realWait('its readings back', () => warnings().length >= 2);
        // The second child runs past the longest wait (real time, which the fake leaves alone).
        const from = process.hrtime.bigint();
        await realWait('a run of 250 ms', () => process.hrtime.bigint() - from >= 250_000_000n);
        writeFileSync(die, '');
        await realWait('its second end', () => warnings().length >= 3);
      } finally {
        clock?.uninstall();
      }
      // Its wait is the first again (50 ms), not the doubled one (100 ms).
      expect(warnings()[2]?.msg).to.equal(
        'nvidia-smi: child ended (exit 15); GPU energy goes unread until it is started again (in 50 ms)',
      );
      await source.close();
    });
  }

  // A test runner's fake timers, installed after carbonscope started, must not hold the restart:
  // it is real time, as the rest of its timers are.
  it('restarts on real time under a runner fake timers', async () => {
    const { binary, die } = dyingSmi(dir);
    const { source, warnings, spawns } = await startReader(binary, { firstMs: 50, maxMs: 400 });
    const clock = install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval'] });
    try {
      writeFileSync(die, '');
      const until = Date.now() + 10_000;
      // Polled on the event loop alone: every timer here is fake.
      while (spawns() < 2 && Date.now() < until) {
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      clock.uninstall();
    }
    expect(spawns()).to.equal(2);
    await waitFor('its readings back', () => warnings().length >= 2, SLOW);
    await source.close();
  });
});
