import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseEmissionsCsv } from '../../src/cli/csv.js';
import type { Report } from '../../src/cli/report.js';
import { cliEnv } from '../helpers/cli-env.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ENV = cliEnv({});

// /dev/null bound over /proc/stat in a mount namespace of its own: the host's CPU time reads as
// it does under a /proc mounted subset=pid (systemd's ProcSubset=pid), and os.cpus() lists none.
const UNREAD = [
  'unshare',
  '-m',
  'sh',
  '-c',
  'mount --bind /dev/null /proc/stat && exec "$0" "$@"',
  process.execPath,
  MAIN,
];

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

function unreadCli(args: string[]): Promise<Ended> {
  return new Promise((resolve) => {
    const child = execFile(UNREAD[0], [...UNREAD.slice(1), ...args], { env: ENV }, (_e, o, e) =>
      resolve({ code: child.exitCode, stdout: o, stderr: e }),
    );
  });
}

/** The CSV's cpu_utilization_percent cell, as written. */
function cpuCell(file: string): string | undefined {
  return parseEmissionsCsv(readFileSync(file, 'utf8')).records[0]?.cpu_utilization_percent;
}

// With /proc/stat unreadable, monitor's lines said `CPU 0%`, its --json cpuUtilizationPercent 0
// and its CSV 0.0 on a machine at 100 %, and run's the command's own CPU time (19.0 % for a
// 0.8 s loop): a stand-in was averaged as a reading. The wiring is what this pins, end to end.
describe('the CLI where the host CPU time cannot be read', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-unread-host-cpu-');

  before(() => {
    const probe = spawnSync(UNREAD[0], [...UNREAD.slice(1), '--version'], { env: ENV });
    expect(probe.status, 'this test needs `unshare -m` and mount (root)').to.equal(0);
    expect(readFileSync('/proc/stat', 'utf8')).to.match(/^cpu /);
  });

  it('monitor says the CPU was not read, and reports no host CPU share (null, an empty cell)', async () => {
    const csv = join(dir, 'monitor.csv');
    const args = ['monitor', '--interval', '200ms', '-d', '700ms', '--json', '-o', csv];
    const r = await unreadCli(args);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr.split('\n').filter((l) => l.includes(' so far'));
    expect(lines.length, r.stderr).to.be.greaterThan(1);
    for (const line of lines) expect(line).to.match(/ · CPU not read$/);
    // Its start-up warning said the host's CPU was "taken as the measured process's own": monitor
    // measures no process, and an estimated CPU power is the idle one.
    const warnings = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('carbonscope: warning: energy meter: cannot read'));
    expect(warnings, r.stderr).to.have.length(1);
    expect(warnings[0]).to.match(/: no process is measured, so the host's CPU is taken as idle: /);
    expect(warnings[0]).to.match(
      /: an estimated CPU power is its idle one, a floor \(the load of the machine is not seen\)$/,
    );
    expect(warnings[0]).to.not.include('measured process');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.cpuUtilizationPercent).to.equal(null);
    expect(cpuCell(csv)).to.equal('');
  });

  it("run reports no host CPU share either, not the command's own CPU time", async () => {
    const csv = join(dir, 'run.csv');
    const busy = 'const t = Date.now(); while (Date.now() - t < 500);';
    const r = await unreadCli(['run', '--json', '-o', csv, '--', process.execPath, '-e', busy]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(
      "the host's busy CPU time is taken as the measured process's own, a floor",
    );
    const report = JSON.parse(r.stdout) as Report;
    expect(report.cpuUtilizationPercent).to.equal(null);
    expect(cpuCell(csv)).to.equal('');
    // The command's energy still rests on its own CPU time, a floor: it is not dropped.
    expect(report.energy.joules, r.stderr).to.be.greaterThan(0);
  });
});
