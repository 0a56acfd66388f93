import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { watchGpuProcesses, watchLateGpus } from '../../../src/cli/gpu-watch.js';
import { gpuShareOutcome } from '../../../src/cli/run.js';
import { PmonShares } from '../../../src/energy/index.js';
import { waitFor } from '../../helpers/wait.js';
import { pipedLines } from '../energy/gpu-share/fixtures.js';
import { fakePid, isAlive, tempDir, writeFakeBinary } from '../energy/sources/helpers.js';

/**
 * A fake nvidia-smi: `pmon` writes its pid to `<dir>/pmon.pid` (the MIG query, which answers and
 * ends, writes nvidia-smi.pid too), prints the H200 capture's lines and runs on.
 */
function fakeNvidiaSmi(dir: string): string {
  const lines = JSON.stringify(pipedLines('pmon-piped.txt').slice(0, -1));
  return writeFakeBinary(
    dir,
    'nvidia-smi',
    `if (args[0] === 'pmon') {
       require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'pmon.pid'))}, String(process.pid));
       process.stdout.write(${lines}.join('\\n') + '\\n');
       setInterval(() => {}, 1000);
     } else {
       console.log('0, Disabled');
     }`,
  );
}

function commandShares(): PmonShares {
  return new PmonShares({ isCommand: (pid) => pid === 574, pidExists: () => true, clock: () => 0 });
}

describe("run's GPU share of a GPU read late", () => {
  // nvidia-smi read no GPU at start (a driver loading): pmon was started at the start only, so
  // the GPUs read later were the host's alone however busy the command kept them.
  it('starts pmon once nvidia-smi reads its GPUs, and the command gets its share from then', async () => {
    const { dir, cleanup } = tempDir('late-pmon');
    const shares = commandShares();
    let gpus: number[] = [];
    const watch = watchLateGpus({
      gpus: () => gpus,
      start: (read) => watchGpuProcesses(read, shares, { binary: fakeNvidiaSmi(dir) }),
      failed: (reason) => shares.fail(reason),
      everyMs: 20,
    });
    try {
      await sleep(100);
      expect(shares.outcome()).to.equal(undefined); // no GPU read yet: no pmon
      expect(shares.beganAtMs()).to.equal(undefined);
      gpus = [0];
      await waitFor('the late GPU share', () => {
        shares.next(0);
        return shares.share('gpu0');
      });
      expect(shares.share('gpu0')).to.equal(457 / 493);
      const pid = fakePid(dir, 'pmon');
      watch.stop();
      await shares.close();
      expect(isAlive(pid)).to.equal(false);
      expect(shares.outcome()).to.deep.equal({ read: true, commandBusy: true });
    } finally {
      watch.stop();
      await shares.close();
      cleanup();
    }
  });

  it('stops a pmon whose header comes after the meter closed the shares', async () => {
    const { dir, cleanup } = tempDir('late-pmon');
    const shares = commandShares();
    try {
      await shares.close(); // the command ended while pmon was starting
      await watchGpuProcesses([0], shares, { binary: fakeNvidiaSmi(dir) });
      const pid = fakePid(dir, 'pmon');
      await waitFor('pmon stopped', () => !isAlive(pid));
    } finally {
      cleanup();
    }
  });

  // The command ended while the late start still waited on the MIG query (a driver slow to
  // answer): run exits without awaiting it, and the query child outlived carbonscope.
  it('leaves no MIG query of a late start running once carbonscope exits', async function () {
    this.timeout(20_000);
    const { dir, cleanup } = tempDir('late-pmon');
    const binary = writeFakeBinary(
      dir,
      'nvidia-smi',
      `if (args[0] !== 'pmon') {
         require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'query.pid'))}, String(process.pid));
       }
       setInterval(() => {}, 1000);`,
    );
    const watch = new URL('../../../src/cli/gpu-watch.js', import.meta.url).href;
    const energy = new URL('../../../src/energy/index.js', import.meta.url).href;
    const script = `
      import { existsSync } from 'node:fs';
      import { watchGpuProcesses, watchLateGpus } from ${JSON.stringify(watch)};
      import { monotonicClock, PmonShares } from ${JSON.stringify(energy)};
      const shares = new PmonShares({ isCommand: () => false, clock: monotonicClock });
      watchLateGpus({
        gpus: () => [0],
        start: (gpus) => watchGpuProcesses(gpus, shares, { binary: ${JSON.stringify(binary)} }),
        failed: (reason) => shares.fail(reason),
        everyMs: 10,
      });
      const t = setInterval(() => {
        if (existsSync(${JSON.stringify(join(dir, 'query.pid'))})) process.exit(0);
      }, 10);`;
    try {
      const run = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: 'inherit',
      });
      const [code] = await once(run, 'exit');
      expect(code).to.equal(0);
      const pid = fakePid(dir, 'query');
      await waitFor('the MIG query ended with carbonscope', () => !isAlive(pid));
    } finally {
      try {
        process.kill(fakePid(dir, 'query'), 'SIGKILL');
      } catch {}
      cleanup();
    }
  });

  // spawn() throws for some errors (ENOMEM, E2BIG) rather than emitting them: unawaited, the
  // late start's rejection ended carbonscope mid-command, the command left running unreported.
  it('says why, and does not crash, where the late pmon start throws', async () => {
    let failed: string | undefined;
    const watch = watchLateGpus({
      gpus: () => [0],
      start: async () => {
        throw new Error('spawn ENOMEM');
      },
      failed: (reason) => {
        failed = reason;
      },
      everyMs: 10,
    });
    try {
      await waitFor('the failure told', () => failed);
      expect(failed).to.equal('nvidia-smi pmon cannot start: spawn ENOMEM');
    } finally {
      watch.stop();
    }
  });

  // The late start resolved once the MIG query answered too, a driver slow to answer later
  // still: the share counted from pmon's header on, said to start seconds after.
  it("starts the share at pmon's header, not once the MIG query answered", async () => {
    const { dir, cleanup } = tempDir('late-pmon');
    const lines = JSON.stringify(pipedLines('pmon-piped.txt').slice(0, -1));
    const binary = writeFakeBinary(
      dir,
      'nvidia-smi',
      `if (args[0] === 'pmon') process.stdout.write(${lines}.join('\\n') + '\\n');
       else setTimeout(() => { console.log('0, Disabled'); process.exit(0); }, 1500);
       setInterval(() => {}, 1000);`,
    );
    let now = 5000;
    const shares = new PmonShares({
      isCommand: () => false,
      pidExists: () => true,
      clock: () => now,
    });
    try {
      const start = watchGpuProcesses([0], shares, { binary });
      await waitFor("pmon's header", () => shares.beganAtMs() !== undefined);
      now = 9000; // the MIG query has not answered: the start waits on
      expect(shares.beganAtMs()).to.equal(5000);
      await shares.close();
      await start;
      expect(shares.beganAtMs()).to.equal(5000);
    } finally {
      await shares.close();
      cleanup();
    }
  });

  it('says from when the share of a GPU read late was read', () => {
    const read = { read: true, commandBusy: true };
    const late = { atStart: false, now: true, watched: true };
    const outcome = gpuShareOutcome(read, { ...late, pmonAfterS: 61.24 });
    expect(outcome).to.deep.equal({
      read: true,
      commandBusy: true,
      fallback:
        'nvidia-smi read its GPUs only after the start: pmon, which tells the share, was ' +
        'started then (61.2 s in); their energy before is in the host figures only',
    });
    // A pmon that failed keeps its own reason.
    const failed = { read: false, fallback: 'nvidia-smi pmon not found' };
    expect(gpuShareOutcome(failed, { ...late, pmonAfterS: 3 })).to.equal(failed);
    // One that ended later says both: the share covers the time between.
    const ended = { read: true, fallback: 'nvidia-smi pmon ended after 2.0 s: (...)' };
    expect(gpuShareOutcome(ended, { ...late, pmonAfterS: 3 })?.fallback).to.equal(
      'nvidia-smi read its GPUs only after the start: pmon, which tells the share, was started ' +
        'then (3.0 s in); their energy before is in the host figures only; ' +
        'nvidia-smi pmon ended after 2.0 s: (...)',
    );
  });

  it('says why no share was read where the command ended before pmon could start', () => {
    const outcome = gpuShareOutcome(undefined, { atStart: false, now: true, watched: true });
    expect(outcome?.read).to.equal(false);
    expect(outcome?.fallback).to.equal(
      'nvidia-smi read its GPUs only after the start, and the command ended before pmon, which ' +
        'tells the share, could be started',
    );
  });

  it("keeps pmon's own outcome, and says nothing where no GPU was read", () => {
    const read = { read: true, commandBusy: true };
    expect(gpuShareOutcome(read, { atStart: true, now: true, watched: false })).to.equal(read);
    const none = { atStart: false, now: false, watched: true };
    expect(gpuShareOutcome(undefined, none)).to.equal(undefined);
    // pmon not started for another reason (no tree CPU reader): not the late GPU's note.
    const atStart = { atStart: true, now: true, watched: false };
    expect(gpuShareOutcome(undefined, atStart)).to.equal(undefined);
  });

  // Without /proc or ps run has no tree to share by and starts no pmon, late or not: a GPU
  // read late was said to have come too late for a pmon that was never to start.
  it('says nothing of a late pmon where run watched for none (no tree CPU reader)', () => {
    const unwatched = { atStart: false, now: true, watched: false };
    expect(gpuShareOutcome(undefined, unwatched)).to.equal(undefined);
  });
});
