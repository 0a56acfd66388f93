import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { feedPmon, PmonShares, pmonArgs } from '../../../../src/energy/gpu-share/index.js';
import { waitFor } from '../../../helpers/wait.js';
import { captureLogger, fakePid, isAlive, tempDir, writeFakeBinary } from '../sources/helpers.js';
import { pipedLines } from './fixtures.js';

/** A fake nvidia-smi whose `pmon` prints the H200 capture's lines, then `then` (JS). */
function fakePmon(dir: string, then = 'setInterval(() => {}, 1000);'): string {
  const lines = JSON.stringify(pipedLines('pmon-piped.txt').slice(0, -1));
  return writeFakeBinary(
    dir,
    'nvidia-smi',
    `require('node:fs').appendFileSync(${JSON.stringify(`${dir}/args`)}, args.join(' ') + '\\n');\n` +
      `process.stdout.write(${lines}.join('\\n') + '\\n');\n${then}`,
  );
}

function shares(): PmonShares {
  return new PmonShares({ isCommand: (pid) => pid === 574, pidExists: () => true, clock: () => 0 });
}

describe('energy/gpu-share: running nvidia-smi pmon', () => {
  it('asks for SM utilization every second, in -i groups of at most 4 GPUs', () => {
    expect(pmonArgs([0])).to.deep.equal([['pmon', '-s', 'u', '-d', '1']]);
    expect(pmonArgs([0, 1, 2, 3])).to.deep.equal([['pmon', '-s', 'u', '-d', '1']]);
    expect(pmonArgs([0, 1, 2, 3, 4, 5, 6, 7, 8])).to.deep.equal([
      ['pmon', '-s', 'u', '-d', '1', '-i', '0,1,2,3'],
      ['pmon', '-s', 'u', '-d', '1', '-i', '4,5,6,7'],
      ['pmon', '-s', 'u', '-d', '1', '-i', '8'],
    ]);
  });

  it('begins once pmon prints its header, feeds its rows, and is stopped by close()', async () => {
    const { dir, cleanup } = tempDir('pmon');
    try {
      const s = shares();
      s.next(0);
      await feedPmon(s, { binary: fakePmon(dir), gpus: [0] });
      expect(s.outcome()).to.deep.equal({ read: true });
      await waitFor('a pmon sample', () => {
        s.next(0);
        return s.share('gpu0') !== undefined;
      });
      expect(s.share('gpu0')).to.equal(457 / 493);
      const pid = fakePid(dir, 'nvidia-smi');
      expect(isAlive(pid)).to.equal(true);
      await s.close();
      expect(isAlive(pid)).to.equal(false);
      expect(s.outcome()).to.deep.equal({ read: true, commandBusy: true }); // stopped: no failure
    } finally {
      cleanup();
    }
  });

  // A pmon stuck in the kernel is let go of at the stop (line-child.ts). Without onDetach that
  // was a Node warning, `(node:PID) Warning: ...` and a --trace-warnings hint, among `run`'s
  // `carbonscope: warning:` lines; the meter's own nvidia-smi says it through the logger.
  it('a pmon child SIGKILL cannot end is said through the logger it is given', async () => {
    const stdout = new PassThrough();
    const stuck = Object.assign(new EventEmitter(), {
      pid: 434343,
      stdout,
      stderr: new PassThrough(),
      kill: () => true,
      ref: () => undefined,
      unref: () => undefined,
    });
    const { logger, warnings } = captureLogger();
    const nodeWarnings: string[] = [];
    const onWarning = (w: Error) => nodeWarnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const s = shares();
      s.next(0);
      const fed = feedPmon(s, {
        gpus: [0],
        logger,
        lineChild: { spawn: () => stuck as unknown as ChildProcess, kill: () => undefined },
      });
      stdout.write(`${pipedLines('pmon-piped.txt').slice(0, 3).join('\n')}\n`);
      await fed;
      expect(s.outcome()).to.deep.equal({ read: true });
      await s.close();
      await new Promise((r) => setImmediate(r));
      expect(warnings().map((w) => w.msg)).to.deep.equal([
        'nvidia-smi pmon (pid 434343) did not end after SIGKILL (stuck in the kernel?); ' +
          'left behind, its GPU use no longer read',
      ]);
      expect(nodeWarnings).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('falls back, saying why, when nvidia-smi is not there', async () => {
    const s = shares();
    await feedPmon(s, { binary: '/nonexistent/nvidia-smi', gpus: [0] });
    expect(s.outcome()).to.deep.equal({ read: false, fallback: 'nvidia-smi pmon not found' });
  });

  it('falls back when pmon says a GPU is not supported, and stops it', async () => {
    const { dir, cleanup } = tempDir('pmon');
    try {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        "console.log('Failed to process command line: Not Supported'); setInterval(() => {}, 1000);",
      );
      const s = shares();
      await feedPmon(s, { binary, gpus: [0] });
      expect(s.outcome()).to.deep.equal({
        read: false,
        fallback: 'nvidia-smi pmon says: Failed to process command line: Not Supported',
      });
      await waitFor('the fake nvidia-smi to end', () => !isAlive(fakePid(dir, 'nvidia-smi')));
    } finally {
      cleanup();
    }
  });

  it('falls back when pmon exits before its header, with what it said', async () => {
    const { dir, cleanup } = tempDir('pmon');
    try {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        "console.error('NVIDIA-SMI has failed because it couldn\\'t communicate with the NVIDIA driver.'); process.exit(9);",
      );
      const s = shares();
      await feedPmon(s, { binary, gpus: [0] });
      expect(s.outcome()).to.deep.equal({
        read: false,
        fallback:
          "nvidia-smi pmon ended (exit 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.)",
      });
    } finally {
      cleanup();
    }
  });

  // It is started again (pmon-feed-restart.test.ts): until then its share is unknown, not held.
  it('has no share from a pmon that ended during the run, and says so', async () => {
    const { dir, cleanup } = tempDir('pmon');
    try {
      const s = shares();
      await feedPmon(s, {
        binary: fakePmon(dir, 'setTimeout(() => process.exit(3), 200);'),
        gpus: [0],
        restartBackoffMs: { firstMs: 60_000, maxMs: 60_000 },
      });
      expect(s.outcome()?.read).to.equal(true);
      await waitFor('the feed to say it', () => s.outcome()?.fallback !== undefined);
      expect(s.outcome()?.fallback).to.equal(
        "nvidia-smi pmon ended mid-run 1 time (exit 3) and was not reading again by the end: the command's GPU share is unknown for 0.0 s of the run, whose GPU energy is in the host figures only",
      );
      s.next(0);
      expect(s.share('gpu0')).to.equal(undefined);
      await s.close();
    } finally {
      cleanup();
    }
  });

  it('runs one pmon per group of 4 GPUs, each with its -i list', async () => {
    const { dir, cleanup } = tempDir('pmon');
    try {
      const s = shares();
      await feedPmon(s, { binary: fakePmon(dir), gpus: [0, 1, 2, 3, 4] });
      expect(s.outcome()).to.deep.equal({ read: true });
      await s.close();
      const runs = readFileSync(join(dir, 'args'), 'utf8').trim().split('\n').sort();
      expect(runs).to.deep.equal(['pmon -s u -d 1 -i 0,1,2,3', 'pmon -s u -d 1 -i 4']);
    } finally {
      cleanup();
    }
  });
});
