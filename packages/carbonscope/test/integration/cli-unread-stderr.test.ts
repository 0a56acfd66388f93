import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseEmissionsCsv } from '../../src/cli/csv.js';
import type { Report } from '../../src/cli/report.js';
import { cliEnv } from '../helpers/cli-env.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ENV = cliEnv({});
const FILL_BYTES = 256 * 1024;

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

// A preload fills stderr first, past a pipe's 64 KiB, so the command's own lines find it full.
describe('the CLI with a stderr its reader does not read', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-unread-stderr-');
  const fifo = join(dir, 'stderr.fifo');
  const fill = join(dir, 'fill-stderr.cjs');
  let fd: number;
  let child: ChildProcess | undefined;

  before(() => {
    execFileSync('mkfifo', [fifo]);
    fd = openSync(fifo, 'r+');
    writeFileSync(fill, `process.stderr.write('x'.repeat(${FILL_BYTES}) + '\\n');\n`);
  });
  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(() => closeSync(fd));

  /** Starts the CLI with `args`, stderr to `stderr`; `ended` settles once it closed. */
  function start(args: string[], stderr: 'pipe' | number) {
    const proc = spawn(process.execPath, ['-r', fill, MAIN, ...args], {
      env: ENV,
      stdio: ['ignore', 'pipe', stderr],
    });
    child = proc;
    const seen: Ended = { code: null, stdout: '', stderr: '' };
    proc.stdout?.on('data', (d: Buffer) => {
      seen.stdout += d;
    });
    proc.stderr?.on('data', (d: Buffer) => {
      seen.stderr += d;
    });
    const ended = new Promise<Ended>((resolve) => {
      proc.on('close', (code) => resolve({ ...seen, code }));
    });
    return { proc, seen, ended };
  }

  /** Whether `text` is a whole JSON report: the CLI has written its figures to stdout. */
  function reported(text: string): boolean {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  // A supervisor that never reads the stderr it gave (a FIFO opened read-write, so the open does
  // not wait for a reader, and never read): the CLI waited for a drain that never came, its
  // figures written, and took no SIGTERM (a supervisor's stop ended in its SIGKILL).
  for (const [name, args, status] of [
    ['monitor', ['monitor', '-d', '1s', '--interval', '100ms', '--json', '-o', 'CSV'], 0],
    ['run', ['run', '--json', '--', process.execPath, '-e', 'process.exit(3)'], 3],
  ] as const) {
    it(`${name}, its figures written, ends on a SIGTERM with its status`, async () => {
      const csv = join(dir, `${name}.csv`);
      const cli = start(
        args.map((a) => (a === 'CSV' ? csv : a)),
        fd,
      );
      await waitFor('the report on stdout', () => reported(cli.seen.stdout), 30_000);
      // A signal that comes between the report and the wait for the drain goes to the command's
      // own handlers (run's, to its child; monitor's, let go): one a second, till it ends.
      const stop = setInterval(() => cli.proc.kill('SIGTERM'), 1000);
      cli.proc.kill('SIGTERM');
      const r = await cli.ended.finally(() => clearInterval(stop));
      expect(r.code, r.stdout).to.equal(status);
      expect((JSON.parse(r.stdout) as Report).command).to.equal(name);
      if (name === 'monitor') {
        expect(parseEmissionsCsv(readFileSync(csv, 'utf8')).records).to.have.length(1);
      }
    });
  }

  // A pager whose reader has not scrolled yet, or `| (sleep 5; cat)`: the CLI ended after 3 s of
  // no progress and what Node still queued was lost, the summary with it (65,536 of 262,865
  // bytes came, exit 0).
  it('a reader that pauses, then reads, gets all of it', async () => {
    const cli = start(['run', '--json', '--', process.execPath, '-e', 'process.exit(3)'], 'pipe');
    cli.proc.stderr?.pause();
    await waitFor('the report on stdout', () => reported(cli.seen.stdout), 30_000);
    await sleep(4000); // the reader's pause, longer than any wait for progress
    cli.proc.stderr?.resume();
    const r = await cli.ended;
    expect(r.code).to.equal(3);
    expect(r.stderr.length).to.be.greaterThan(FILL_BYTES);
    expect(r.stderr).to.match(/carbonscope: `.*` exited with code 3 after /);
  });
});
