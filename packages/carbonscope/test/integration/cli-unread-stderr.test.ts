import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseEmissionsCsv } from '../../src/cli/csv.js';
import type { Report } from '../../src/cli/report.js';
import { cliEnv } from '../helpers/cli-env.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ENV = cliEnv({});

// A supervisor that never reads the stderr it gave: a FIFO opened read-write (so the open does
// not wait for a reader) and never read. A preload fills it first, past its 64 KiB, so the
// command's own lines find it full from the start.
describe('the CLI with a stderr nobody reads', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-unread-stderr-');
  const fifo = join(dir, 'stderr.fifo');
  const fill = join(dir, 'fill-stderr.cjs');
  let fd: number;
  let child: ChildProcess | undefined;

  before(() => {
    execFileSync('mkfifo', [fifo]);
    fd = openSync(fifo, 'r+');
    writeFileSync(fill, "process.stderr.write('x'.repeat(256 * 1024) + '\\n');\n");
  });
  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(() => closeSync(fd));

  /** Runs the CLI with `args`; resolves with its exit code and stdout once it ended. */
  async function ended(args: string[]): Promise<{ code: number | null; stdout: string }> {
    const proc = spawn(process.execPath, ['-r', fill, MAIN, ...args], {
      env: ENV,
      stdio: ['ignore', 'pipe', fd],
    });
    child = proc;
    let stdout = '';
    proc.stdout?.on('data', (d: Buffer) => {
      stdout += d;
    });
    let code: number | null | undefined;
    proc.on('close', (c) => {
      code = c;
    });
    // It waited for a drain that never came: it ran on after its figures were written, and a
    // supervisor's stop (SIGTERM) ended in its SIGKILL.
    await waitFor('the command to end', () => code !== undefined, 30_000);
    return { code: code ?? null, stdout };
  }

  it('monitor ends once stopped, its CSV row and --json written', async () => {
    const csv = join(dir, 'monitor.csv');
    const r = await ended(['monitor', '-d', '1s', '--interval', '100ms', '--json', '-o', csv]);
    expect(r.code, r.stdout).to.equal(0);
    expect((JSON.parse(r.stdout) as Report).command).to.equal('monitor');
    expect(parseEmissionsCsv(readFileSync(csv, 'utf8')).records).to.have.length(1);
  });

  it("run ends with its command's status", async () => {
    const r = await ended(['run', '--json', '--', process.execPath, '-e', 'process.exit(3)']);
    expect(r.code, r.stdout).to.equal(3);
    expect((JSON.parse(r.stdout) as Report).command).to.equal('run');
  });
});
