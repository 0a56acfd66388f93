import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { feedPmon, PmonShares } from '../../../../src/energy/gpu-share/index.js';
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
} from '../sources/helpers.js';
import { pipedLines } from './fixtures.js';

/** pmon's header as the H200 printed it, and a sample where the command (574) has 75 % of SM. */
const HEADER = pipedLines('pmon-piped.txt').slice(0, 2).join('\n');
const SAMPLE =
  '    0        574     C     60     22      -      -      -      -    python3        \n' +
  '    0        575     C     20      5      -      -      -      -    python3        \n';

/** A stand-in for nvidia-smi pmon (dyingStandIn): its header, then SAMPLE every 20 ms. */
const dyingPmon = (dir: string) => dyingStandIn(dir, SAMPLE, `${HEADER}\n`);

interface Feed {
  shares: PmonShares;
  warnings: ReturnType<typeof captureLogger>['warnings'];
  /** Children started so far, counted as each is spawned (a binary that is gone counts too). */
  spawns(): number;
}

async function startFeed(binary: string, restartBackoffMs: RestartDelays): Promise<Feed> {
  const { logger, warnings } = captureLogger();
  const { lineChild, spawns } = countingSpawn();
  const shares = new PmonShares({
    isCommand: (pid) => pid === 574,
    pidExists: () => true,
    clock: () => performance.now(),
  });
  shares.next(performance.now());
  await feedPmon(shares, {
    binary,
    gpus: [0],
    logger,
    restartBackoffMs,
    startTimeoutMs: SLOW,
    lineChild,
  });
  expect(shares.outcome()?.read).to.equal(true);
  return { shares, warnings, spawns };
}

/** The share of gpu0 over an interval that ends now. */
function shareNow(shares: PmonShares): number | undefined {
  shares.next(performance.now());
  return shares.share('gpu0');
}

// A pmon that ended mid-run was never started again: the command's GPU share was lost for the
// rest of the run (`run` fell back to host-only GPU energy from that second on).
describe('energy/gpu-share: pmon restarts', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('pmon-restart'));
  });
  afterEach(() => cleanup());

  it('starts pmon again after a back-off; the share is unknown over the gap, not held', async () => {
    const { binary, die, hold } = dyingPmon(dir);
    const { shares, warnings, spawns } = await startFeed(binary, { firstMs: 50, maxMs: 400 });
    await waitFor('a share', () => shareNow(shares) === 0.75, SLOW);
    // The next pmon is started but prints nothing until `hold` goes: the gap lasts till then.
    writeFileSync(hold, '');
    writeFileSync(die, '');
    await waitFor('pmon started again', () => spawns() === 2, SLOW);
    // Neither the last share nor a guess: none, over the intervals of the gap.
    expect(shareNow(shares)).to.equal(undefined);
    expect(shareNow(shares)).to.equal(undefined);
    expect(warnings()).to.have.length(1);
    unlinkSync(hold);
    await waitFor('its rows back', () => warnings().length >= 2, SLOW);
    await waitFor('a share again', () => shareNow(shares) === 0.75, SLOW);
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      "nvidia-smi pmon ended (exit 15); the command's share of gpu0 is unknown until it is started again (in 50 ms)",
      "nvidia-smi pmon reads again: the command's share of gpu0 counts again from its next sample",
    ]);
    await shares.close();
    expect(spawns()).to.equal(2);
    expect(shares.outcome()).to.deep.include({ read: true, commandBusy: true });
    expect(shares.outcome()?.fallback).to.match(
      /^nvidia-smi pmon ended mid-run 1 time \(exit 15\) and was started again: the command's GPU share is unknown for \d+\.\d s of the run, whose GPU energy is in the host figures only$/,
    );
  });

  it('a pmon that keeps dying: one warning for the outage, starts spaced by the doubling back-off', async () => {
    // Prints its header and a sample and dies at its first start; at every later one, at once.
    const starts = join(dir, 'starts');
    const binary = writeFakeBinary(
      dir,
      'nvidia-smi',
      `const fs = require('node:fs');
const n = (fs.existsSync(${JSON.stringify(starts)}) ? fs.readFileSync(${JSON.stringify(starts)}, 'utf8').length : 0);
fs.appendFileSync(${JSON.stringify(starts)}, 'x');
if (n > 0) process.exit(3);
process.stdout.write(${JSON.stringify(`${HEADER}\n${SAMPLE}`)});
setTimeout(() => process.exit(3), 100);`,
    );
    const delays = { firstMs: 40, maxMs: 160 };
    const { shares, warnings, spawns } = await startFeed(binary, delays);
    const t0 = performance.now();
    await waitFor('five starts', () => spawns() >= 5, SLOW);
    const spent = performance.now() - t0;
    expect(shareNow(shares)).to.equal(undefined);
    await shares.close();
    const after = spawns();
    // 40, 80, 160, 160 ms between the five; without the back-off, hundreds of starts.
    expect(spent).to.be.at.least(40 + 80 + 160 + 160 - 20);
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      "nvidia-smi pmon ended (exit 3); the command's share of gpu0 is unknown until it is started again (in 40 ms)",
    ]);
    await pastPendingRestarts(delays);
    expect(spawns()).to.equal(after);
    // Down at the end: the gap runs to close().
    expect(shares.outcome()?.fallback).to.match(
      /^nvidia-smi pmon ended mid-run 1 time \(exit 3\) and was not reading again by the end: the command's GPU share is unknown for \d+\.\d s of the run,/,
    );
  });

  it('a binary gone: said once, tried again at the cap only, reads again once it is back', async () => {
    const { binary, die, starts } = dyingPmon(dir);
    const delays = { firstMs: 30, maxMs: 120 };
    const { shares, warnings, spawns } = await startFeed(binary, delays);
    await goneAndBack(binary, die, warnings);
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      "nvidia-smi pmon ended (exit 15); the command's share of gpu0 is unknown until it is started again (in 30 ms)",
      `nvidia-smi pmon: ${binary} not found; tried again every 120 ms until it is`,
      "nvidia-smi pmon reads again: the command's share of gpu0 counts again from its next sample",
    ]);
    await shares.close();
    const closedAt = spawns();
    expect(startsIn(starts)).to.equal(2);
    await pastPendingRestarts(delays);
    expect(spawns()).to.equal(closedAt);
  });

  // Timed on real monotonic time, as the meter's nvidia-smi is (restart-backoff.ts).
  it('a run as long as the longest wait starts the back-off over', async () => {
    const { binary, die } = dyingPmon(dir);
    const { shares, warnings } = await startFeed(binary, { firstMs: 50, maxMs: 200 });
    writeFileSync(die, '');
    await waitFor('its rows back', () => warnings().length >= 2, SLOW);
    const from = process.hrtime.bigint();
    await waitFor('a run of 250 ms', () => process.hrtime.bigint() - from >= 250_000_000n, SLOW);
    writeFileSync(die, '');
    await waitFor('its second end', () => warnings().length >= 3, SLOW);
    // The first wait again (50 ms), not the doubled one (100 ms).
    expect(warnings()[2]?.msg).to.equal(
      "nvidia-smi pmon ended (exit 15); the command's share of gpu0 is unknown until it is started again (in 50 ms)",
    );
    await shares.close();
    expect(shares.outcome()?.fallback).to.match(
      /^nvidia-smi pmon ended mid-run 2 times \(first: exit 15\)/,
    );
  });

  it('no restart after close(), though pmon dies as it is stopped', async () => {
    const { binary } = dyingPmon(dir);
    const delays = { firstMs: 10, maxMs: 10 };
    const { shares, warnings, spawns } = await startFeed(binary, delays);
    await shares.close();
    await pastPendingRestarts(delays);
    expect(spawns()).to.equal(1);
    expect(warnings()).to.deep.equal([]);
    expect(shares.outcome()).to.deep.equal({ read: true });
  });
});
