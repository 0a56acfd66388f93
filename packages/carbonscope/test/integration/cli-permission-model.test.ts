import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cliEnv } from '../helpers/cli-env.js';
import { underPermission } from '../helpers/permission-model.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Half a second of CPU: a command whose CPU time the run must read. */
const BUSY =
  'const c = process.cpuUsage(); for (;;) { const u = process.cpuUsage(c); if (u.user + u.system >= 5e5) break; }';

/** `run --json` of that command: its report on stdout. */
const RUN_BUSY = ['run', '--json', '--', process.execPath, '-e', BUSY];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI on this Node under the permission model, with `flags` (the grants) before it. */
function cliUnder(
  flags: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...flags, MAIN, ...args],
      { env: cliEnv({ ENERGY_SAMPLE_INTERVAL_MS: '250', ...env }), timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** No stack on stderr: a refusal is one line, not a crash. */
const NO_STACK = /\n\s+at /;

describe("carbonscope run and monitor under Node's permission model (the real flags, this Node)", function () {
  this.timeout(60_000);
  let out: ReturnType<typeof tempDir>;
  beforeEach(() => {
    out = tempDir('carbonscope-permission-cli-');
  });
  afterEach(() => out.cleanup());

  it('run says the flag where /proc is refused, and reports the whole machine', async () => {
    const r = await cliUnder(underPermission('--allow-child-process'), RUN_BUSY);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(
      "carbonscope: warning: run: the permission model refuses reading /proc: grant --allow-fs-read=/proc; the command's CPU time is not read: its energy is not known, only the whole machine's",
    );
    expect(r.stderr).to.not.match(NO_STACK);
    const report = JSON.parse(r.stdout) as {
      energy: { known: boolean };
      host: { joules: number };
    };
    expect(report.energy.known).to.equal(false);
    expect(report.host.joules).to.be.above(0);
  });

  it('run reads /proc, without a word, once it is granted', async () => {
    const grants = underPermission('--allow-child-process', '--allow-fs-read=/proc');
    const r = await cliUnder(grants, RUN_BUSY);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.not.include('carbonscope: warning: run:');
    const report = JSON.parse(r.stdout) as { measurement: { cpuTime: string } };
    expect(report.measurement.cpuTime).to.match(/from \/proc/);
  });

  it('run says in one line that it may not start the command, and exits 126', async () => {
    const r = await cliUnder(underPermission(), ['run', '--', process.execPath, '-e', BUSY]);
    expect(r.stderr).to.include(
      `carbonscope: cannot run ${process.execPath}: the permission model refuses child processes: grant --allow-child-process`,
    );
    expect(r.stderr).to.not.match(NO_STACK);
    expect(r.stderr).to.not.include('error:');
    expect(r.code).to.equal(126);
  });

  it('monitor writes its CSV with no child process granted, only its folder', async () => {
    const csv = join(out.dir, 'emissions.csv');
    const grants = [`--allow-fs-read=${out.dir}`, `--allow-fs-write=${out.dir}`];
    const r = await cliUnder(underPermission(...grants), [
      'monitor',
      '--duration',
      '1s',
      '--interval',
      '500ms',
      '-o',
      csv,
    ]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.not.include('error');
    expect(r.stdout).to.not.include('NOT written');
    expect(readFileSync(csv, 'utf8').trim().split('\n')).to.have.length(2);
  });

  it('monitor says in its summary that no GPU is read where child processes are refused', async () => {
    // At info level alone the loss of a GPU's energy went unseen (the default level is warn).
    const r = await cliUnder(underPermission(), ['monitor', '--duration', '1s'], {
      ENERGY_SOURCE: 'auto',
    });
    expect(r.code, r.stderr).to.equal(0);
    const from = r.stderr.split('\n').find((l) => l.includes('power from:')) ?? r.stderr;
    expect(from).to.include(
      'GPUs: nvidia-smi not run (the permission model refuses child processes: grant ' +
        '--allow-child-process): no GPU energy is counted, where this host has NVIDIA GPUs',
    );
  });

  it("monitor names both grants its --output's folder needs where they are missing", async () => {
    const csv = join(out.dir, 'emissions.csv');
    const r = await cliUnder(underPermission(), ['monitor', '--duration', '1s', '-o', csv]);
    expect(r.stderr).to.include(
      `carbonscope: --output: cannot write ${csv}: the permission model refuses it: grant --allow-fs-read=${out.dir} --allow-fs-write=${out.dir}`,
    );
    expect(r.stderr).to.not.match(NO_STACK);
    expect(r.code).to.equal(2);
  });
});
