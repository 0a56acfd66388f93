import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseEmissionsCsv } from '../../src/cli/csv.js';
import type { Report } from '../../src/cli/report.js';
import { libraryRoot } from '../../src/paths.js';
import { otlpReceiver } from '../helpers/otlp-receiver.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { writeFakeBinary } from '../unit/energy/sources/helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const moduleUrl = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);

/** main.js's `run`, with the first try again of an nvidia-smi that read no GPU at start sooner. */
function runEntry(args: readonly string[], gpuRetryFirstMs: number): string {
  return `import { markOwnCli } from ${moduleUrl('../../src/own-cli.js')};
    import { runCommand } from ${moduleUrl('../../src/cli/run.js')};
    import { endProcess } from ${moduleUrl('../../src/cli/ending.js')};
    markOwnCli();
    const ending = await runCommand(${JSON.stringify(args)}, process.env, { gpuRetryFirstMs: ${gpuRetryFirstMs} });
    process.exitCode = ending.code;
    process.stdout.write('', () => process.stderr.write('', () => endProcess(ending)));`;
}
const H200 = join(libraryRoot, 'test', 'fixtures', 'energy', 'h200');

/** A line of the real H200 under the bf16 load, as `--query-gpu=...,power.draw` printed it. */
const LOADED = readFileSync(join(H200, 'call1', 'nvidia-smi-load.csv'), 'utf8')
  .split('\n')
  .find((line) => Number(line.split(',')[3]) > 600) as string;

/** pmon's lines as the H200 printed them: header, units, pid 574 at 99 % SM, 575 at 24 %. */
const PMON = readFileSync(join(H200, 'call2', 'pmon-piped.txt'), 'utf8')
  .split('\n')
  .map((line) => line.slice(line.indexOf('\t') + 1));
const [HEADER, UNITS, ROW_574] = PMON;
const ROW_575 = PMON[5];

/** Pids no process here can have (above pid_max): another pid namespace's. */
const PID_MAX = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));

/**
 * A fake nvidia-smi on PATH: `--query-gpu ... -lms N` prints the loaded H200 line every N ms
 * (for `gpus` GPUs, 1 by default: gpu1's line is gpu0's with its index);
 * `--query-gpu=index,mig.mode.current` prints `mig` (`0, Disabled` by default) after `migDelayMs`
 * and exits; `pmon` writes the epoch ms to `pmon.at`, prints the H200's header, then every 250 ms
 * pid 574's row (full duty) with the pid the command wrote to `cmd.pid`, once it has, and 575's
 * row (24 % SM) with `foreignPid` (by default its own pid: a process here, outside the command's
 * tree), both on gpu0 only. `pmon` runs `pmonBody` instead when given. With `late`, the first
 * `--query-gpu ... -lms` ends with no line, as a driver still loading leaves it.
 */
function fakeNvidiaSmi(
  dir: string,
  o: {
    pmonBody?: string;
    foreignPid?: string;
    gpus?: number;
    mig?: string;
    migDelayMs?: number;
    late?: boolean;
  } = {},
): void {
  const lines = Array.from({ length: o.gpus ?? 1 }, (_, i) =>
    LOADED.replace(/^0, GPU-([^,]*)/, `${i}, GPU-$1${i === 0 ? '' : i}`),
  );
  const pmon =
    o.pmonBody ??
    `const fs = require('node:fs');
     const pidFile = ${JSON.stringify(join(dir, 'cmd.pid'))};
     const foreign = ${o.foreignPid ?? 'String(process.pid)'};
     fs.writeFileSync(${JSON.stringify(join(dir, 'pmon.at'))}, String(Date.now()));
     console.log(${JSON.stringify(HEADER)});
     console.log(${JSON.stringify(UNITS)});
     const block = () => {
       const lines = [];
       if (fs.existsSync(pidFile)) {
         lines.push(${JSON.stringify(ROW_574)}.replace(' 574 ', ' ' + fs.readFileSync(pidFile, 'utf8').trim() + ' '));
       }
       lines.push(${JSON.stringify(ROW_575)}.replace(' 575 ', ' ' + foreign + ' '));
       process.stdout.write(lines.join('\\n') + '\\n');
     };
     block();
     setInterval(block, 250);`;
  writeFakeBinary(
    dir,
    'nvidia-smi',
    `if (args[0] === 'pmon') {
       ${pmon}
     } else if (args[0] === '--query-gpu=index,mig.mode.current') {
       setTimeout(() => console.log(${JSON.stringify(o.mig ?? '0, Disabled')}), ${o.migDelayMs ?? 0});
     } else if (${o.late === true} && !require('node:fs').existsSync(${JSON.stringify(join(dir, 'late'))})) {
       require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'late'))}, '');
     } else {
       const ms = Number(args[args.indexOf('-lms') + 1]);
       const line = () => console.log(${JSON.stringify(lines.join('\n'))});
       line();
       setInterval(line, ms);
     }`,
  );
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `carbonscope run --source nvidia-smi --json -o <dir>/emissions.csv -- node -e <script>`.
 * With `interruptOnce`, it runs in a process group of its own, as a shell's foreground job
 * does, and the group gets SIGINT, as Ctrl-C sends it, once that file exists: the command
 * writes it when it is ready for the signal. (A fixed 3 s after the spawn came, on a loaded
 * machine, before the command had set its handler, and the signal killed it.)
 */
function runWithGpu(dir: string, script: string, interruptOnce?: string): Promise<Result> {
  return runCommandWithGpu(dir, [process.execPath, '-e', script], interruptOnce);
}

/** Sends SIGINT to `pid`'s process group once `file` exists, unless `ended` says it ended. */
async function interruptGroupOnce(pid: number, file: string, ended: () => boolean): Promise<void> {
  while (!existsSync(file)) {
    if (ended()) return;
    await sleep(20);
  }
  process.kill(-pid, 'SIGINT');
}

/** The same, of any command line; `gpuRetryFirstMs` through runCommand's hook, `options` too. */
function runCommandWithGpu(
  dir: string,
  argv: readonly string[],
  interruptOnce?: string,
  gpuRetryFirstMs?: number,
  options: readonly string[] = [],
): Promise<Result> {
  const args = [
    '--source',
    'nvidia-smi',
    '--json',
    '-o',
    join(dir, 'emissions.csv'),
    ...options,
    '--',
    ...argv,
  ];
  const entry =
    gpuRetryFirstMs === undefined
      ? [MAIN, 'run', ...args]
      : ['--input-type=module', '-e', runEntry(args, gpuRetryFirstMs)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, entry, {
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        CARBON_INTENSITY: '300',
        CARBON_ZONE: 'DE',
        ENERGY_SAMPLE_INTERVAL_MS: '250',
        ELECTRICITY_MAPS_API_KEY: '',
        ELECTRICITY_MAP_API_KEY: '',
        LOG_LEVEL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: interruptOnce !== undefined,
    });
    if (interruptOnce !== undefined) {
      let ended = false;
      child.on('exit', () => {
        ended = true;
      });
      interruptGroupOnce(child.pid as number, interruptOnce, () => ended).catch(reject);
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes its pid where the fake pmon reads it, then spends 2.5 s (some of it on the CPU). */
function command(dir: string): string {
  return `require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'cmd.pid'))}, String(process.pid));
    const c = process.cpuUsage(); while (process.cpuUsage(c).user < 2e5);
    setTimeout(() => {}, 2500);`;
}

const gpuOf = (components: Report['energy']['components']) =>
  components.find((c) => c.component === 'gpu');

describe("carbonscope run: the command's share of the GPU (nvidia-smi pmon)", function () {
  this.timeout(60_000);

  it('gives the command its SM share of the GPU energy: summary, JSON and CSV', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    fakeNvidiaSmi(dir);
    const r = await runWithGpu(dir, command(dir));
    if (process.env.SHOW_SUMMARY) process.stderr.write(r.stderr);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    const mine = gpuOf(report.energy.components);
    const machine = gpuOf(report.host.components);
    expect(mine, r.stderr).to.include({ source: 'nvidia-smi', estimated: false });
    expect(machine).to.include({ source: 'nvidia-smi', estimated: false });
    // Both rows busy: the command's share is 99 / (99 + 24) of each such interval; before its
    // pid is written only the foreign row is, and the command gets none.
    const share = (mine?.joules ?? 0) / (machine?.joules ?? 1);
    expect(share, r.stderr).to.be.above(0.5 * (99 / 123));
    expect(share).to.be.at.most(99 / 123 + 1e-9);
    const cpu = report.energy.components.find((c) => c.component === 'cpu')?.joules ?? 0;
    const ram = report.energy.components.find((c) => c.component === 'ram')?.joules ?? 0;
    expect(report.energy.joules).to.be.closeTo(cpu + ram + (mine?.joules ?? 0), 1e-6);
    const notes = report.measurement.notes.join('\n');
    expect(notes).to.include(
      "the command's GPU energy is its share of each GPU's by SM utilization from nvidia-smi pmon",
    );
    expect(notes).to.not.include('not attributed');
    expect(report.host.gpus).to.deep.equal([{ device: 'gpu0', name: 'NVIDIA H200' }]);
    // The summary lists the command's GPU and the machine's components.
    expect(r.stderr).to.match(
      /energy of the command: .*\n(?: {4}.*\n)* {4}gpu +.* nvidia-smi \(measured\)\n/,
    );
    expect(r.stderr).to.match(
      /whole machine meanwhile: .*\n(?: {4}.*\n)* {4}gpu +.* nvidia-smi \(measured\)\n/,
    );
    // The CSV row: CodeCarbon's units (kWh, W), the command's share; PUE 1.
    const { records } = parseEmissionsCsv(readFileSync(join(dir, 'emissions.csv'), 'utf8'));
    const [row] = records;
    expect(Number(row.gpu_energy)).to.be.closeTo((mine?.joules ?? 0) / 3.6e6, 1e-12);
    expect(Number(row.gpu_power)).to.be.closeTo((mine?.joules ?? 0) / report.durationSeconds, 1e-6);
    expect(Number(row.energy_consumed)).to.be.closeTo(report.energy.kwh, 1e-12);
    expect(Number(row.energy_consumed) * 3.6e6).to.be.closeTo(
      cpu + ram + (mine?.joules ?? 0),
      1e-6,
    );
    expect(row.gpu_count).to.equal('1');
    expect(row.gpu_model).to.equal('1 x NVIDIA H200');
    // The GPU's mean SM utilization, all processes': 24 % before the command's row, then
    // 99 + 24, which the fake sums past 100 (a real GPU's does not): 100.
    expect(report.gpuUtilizationPercent, r.stderr).to.be.within(24, 100);
    expect(report.gpuUtilizationPercent).to.be.above(50);
    expect(Number(row.gpu_utilization_percent)).to.equal(report.gpuUtilizationPercent);
  });

  it("Ctrl-C: the GPU readers outlive the signal, and the command's clean-up is measured", async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    fakeNvidiaSmi(dir);
    // The command takes 1.5 s to end after SIGINT (a training loop saving a checkpoint): the
    // GPU still draws, and it is still the command's. Ctrl-C comes once it has done its work.
    const ready = join(dir, 'ready');
    const r = await runWithGpu(
      dir,
      `process.on('SIGINT', () => setTimeout(() => process.exit(130), 1500));
      ${command(dir)}
      require('node:fs').writeFileSync(${JSON.stringify(ready)}, '');
      setTimeout(() => {}, 20_000);`,
      ready,
    );
    expect(r.code, r.stderr).to.equal(130);
    const report = JSON.parse(r.stdout) as Report;
    const notes = report.measurement.notes.join('\n');
    expect(notes, r.stderr).to.not.include('pmon ended');
    expect(r.stderr).to.not.include('nvidia-smi: child ended');
    // The fake prints its loaded line throughout: the whole run at that power, to the end.
    const watts = Number(LOADED.split(',')[3]);
    const machine = gpuOf(report.host.components)?.joules ?? 0;
    expect(machine / report.durationSeconds, r.stderr).to.be.closeTo(watts, watts * 0.1);
    const mine = gpuOf(report.energy.components)?.joules ?? 0;
    expect(mine / machine, r.stderr).to.be.above(0.5 * (99 / 123));
  });

  it('falls back to the host figures, saying why, when pmon fails', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    fakeNvidiaSmi(dir, {
      pmonBody: "console.log('Failed to initialize pmon: Not Supported'); process.exit(1);",
    });
    const r = await runWithGpu(dir, command(dir));
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(gpuOf(report.energy.components)).to.equal(undefined);
    expect(gpuOf(report.host.components)?.joules).to.be.above(0);
    const notes = report.measurement.notes.filter((n) => n.includes('GPU'));
    expect(notes).to.deep.equal([
      'GPU energy is the whole devices, not attributed to the command (no per-process GPU energy is read; nvidia-smi pmon says: Failed to initialize pmon: Not Supported); it is in the host figures only',
    ]);
    expect(report.measurement.gpuShare).to.deep.equal({
      read: false,
      reason: 'nvidia-smi pmon says: Failed to initialize pmon: Not Supported',
    });
    const [row] = parseEmissionsCsv(readFileSync(join(dir, 'emissions.csv'), 'utf8')).records;
    expect(row.gpu_energy).to.equal('');
    expect(row.gpu_count).to.equal('1');
  });

  // pmon ended for good with its first child: the share was lost for the rest of the run.
  it('starts a pmon that ended midway again, and says how long the share was unknown', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    const starts = JSON.stringify(join(dir, 'pmon.starts'));
    const again = JSON.stringify(join(dir, 'pmon.again'));
    const pidFile = JSON.stringify(join(dir, 'cmd.pid'));
    // The first pmon prints 4 samples and exits 3; the next one runs on, and says so once
    // carbonscope has had 3 of its samples to read its header by. The command ends then (or
    // after 20 s where no pmon is started again).
    fakeNvidiaSmi(dir, {
      pmonBody: `const fs = require('node:fs');
        const first = !fs.existsSync(${starts});
        fs.appendFileSync(${starts}, 'x');
        console.log(${JSON.stringify(HEADER)});
        console.log(${JSON.stringify(UNITS)});
        let n = 0;
        setInterval(() => {
          n++;
          if (first && n > 4) process.exit(3);
          const lines = [${JSON.stringify(ROW_575)}.replace(' 575 ', ' ' + process.pid + ' ')];
          if (fs.existsSync(${pidFile})) {
            const pid = fs.readFileSync(${pidFile}, 'utf8').trim();
            lines.unshift(${JSON.stringify(ROW_574)}.replace(' 574 ', ' ' + pid + ' '));
          }
          console.log(lines.join('\\n'));
          if (!first && n === 3) fs.writeFileSync(${again}, '');
        }, 250);`,
    });
    const r = await runWithGpu(
      dir,
      `const fs = require('node:fs');
      fs.writeFileSync(${pidFile}, String(process.pid));
      const c = process.cpuUsage(); while (process.cpuUsage(c).user < 2e5);
      const until = Date.now() + 20000;
      const t = setInterval(() => {
        if (fs.existsSync(${again}) || Date.now() > until) clearInterval(t);
      }, 20);`,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'pmon.starts'), 'utf8')).to.equal('xx');
    const report = JSON.parse(r.stdout) as Report;
    expect(gpuOf(report.energy.components)?.joules, r.stderr).to.be.above(0);
    const reason = report.measurement.gpuShare?.reason ?? '';
    expect(report.measurement.gpuShare?.read).to.equal(true);
    expect(reason, r.stderr).to.match(
      /^nvidia-smi pmon ended mid-run 1 time \(exit 3\) and was started again: the command's GPU share is unknown for (\d+\.\d) s of the run, whose GPU energy is in the host figures only$/,
    );
    // The wait (1 s) and a Node start at least, and less than the run.
    const gapS = Number(/for (\d+\.\d) s/.exec(reason)?.[1]);
    expect(gapS).to.be.at.least(1).and.below(report.durationSeconds);
    expect(report.measurement.notes).to.include(reason);
    expect(r.stderr).to.include('carbonscope: warning: nvidia-smi pmon ended (exit 3)');
    expect(r.stderr).to.include('nvidia-smi pmon reads again');
    if (process.env.SHOW_SUMMARY) process.stderr.write(r.stderr);
  });

  it('falls back when pmon names only pids of another pid namespace', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    // The command's row never comes (its pid there is not ours); the busy one is not here.
    fakeNvidiaSmi(dir, { foreignPid: `'${PID_MAX + 575}'` });
    const r = await runWithGpu(dir, 'setTimeout(() => {}, 1500); let x = 0; while (x < 3e7) x++;');
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(gpuOf(report.energy.components)).to.equal(undefined);
    expect(report.measurement.notes.filter((n) => n.includes('GPU'))).to.deep.equal([
      `GPU energy is the whole devices, not attributed to the command (no per-process GPU energy is read; nvidia-smi pmon names busy processes (pid ${PID_MAX + 575}) none of which this /proc shows or the command's tree holds (another pid namespace: a container? or /proc mounted with hidepid)); it is in the host figures only`,
    ]);
  });

  it('names a GPU pmon printed nothing for, and why, once (MIG mode)', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    // Two GPUs draw power; pmon prints rows for gpu0 only, as it does for a MIG-enabled GPU.
    fakeNvidiaSmi(dir, { gpus: 2, mig: '0, Disabled\n1, Enabled' });
    const r = await runWithGpu(dir, command(dir));
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    const machine = gpuOf(report.host.components)?.joules ?? 0;
    const mine = gpuOf(report.energy.components)?.joules ?? 0;
    // gpu1's half of the machine's GPU energy is not the command's (each GPU's energy is
    // integrated on its own: within 1 % of half).
    expect(mine / machine, r.stderr).to.be.at.most(0.5 * (99 / 123) * 1.01);
    expect(mine / machine).to.be.above(0.25 * (99 / 123));
    const notes = report.measurement.notes.filter((n) => n.includes('gpu1'));
    expect(notes, r.stderr).to.deep.equal([
      'the command got no share of one GPU, whose energy is in the host figures only: gpu1: pmon printed no utilization for it (MIG mode is enabled: pmon reads none there)',
    ]);
    expect(r.stderr.split('gpu1: pmon printed').length).to.equal(2); // said once
  });

  it('says why the command got no share of its only GPU, in MIG mode: a note and a JSON field', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    // pmon lists the command's pid on a MIG-enabled GPU, its SM column `-`: it cannot tell.
    const pidFile = JSON.stringify(join(dir, 'cmd.pid'));
    const unread = JSON.stringify(ROW_574.replace(/ C +99 +22 /, ' C     -      - '));
    fakeNvidiaSmi(dir, {
      mig: '0, Enabled',
      pmonBody: `const fs = require('node:fs');
        console.log(${JSON.stringify(HEADER)});
        console.log(${JSON.stringify(UNITS)});
        setInterval(() => {
          if (!fs.existsSync(${pidFile})) return;
          const pid = fs.readFileSync(${pidFile}, 'utf8').trim();
          console.log(${unread}.replace(' 574 ', ' ' + pid + ' '));
        }, 250);`,
    });
    const r = await runWithGpu(dir, command(dir));
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(gpuOf(report.energy.components), r.stderr).to.equal(undefined);
    const why = 'pmon printed no utilization for it (MIG mode is enabled: pmon reads none there)';
    expect(report.measurement.gpuShare).to.deep.equal({
      read: true,
      unshared: [{ device: 'gpu0', why }],
    });
    expect(r.stderr).to.contain(
      `\n  note: GPU energy is the whole devices, not attributed to the command (no per-process GPU energy is read; gpu0: ${why}); it is in the host figures only\n`,
    );
    expect(report.gpuUtilizationPercent).to.equal(null);
    const [row] = parseEmissionsCsv(readFileSync(join(dir, 'emissions.csv'), 'utf8')).records;
    expect(row.gpu_utilization_percent).to.equal('');
  });

  it('says MIG mode may be why where nvidia-smi cannot tell', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    // A driver without the field: nvidia-smi says so; gpu1 is still named, with a question.
    fakeNvidiaSmi(dir, {
      gpus: 2,
      mig: 'Field "mig.mode.current" is not a valid field to query.',
    });
    const r = await runWithGpu(dir, command(dir));
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.measurement.notes, r.stderr).to.include(
      'the command got no share of one GPU, whose energy is in the host figures only: gpu1: pmon printed no utilization for it (MIG mode?)',
    );
  });

  // A start held past the push interval (1 s here) by nvidia-smi's MIG query (pmon's start)
  // let a periodic push out before a command that then could not start: figures of no command.
  it('says so where --otlp pushed while a command that could not start was being started', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    fakeNvidiaSmi(dir, { migDelayMs: 2500 });
    const receiver = await otlpReceiver();
    try {
      const argv = ['carbonscope-no-such-command-xyz'];
      const r = await runCommandWithGpu(dir, argv, undefined, undefined, ['--otlp', receiver.url]);
      expect(r.code, r.stderr).to.equal(127);
      expect(receiver.pushes.length, r.stderr).to.be.greaterThan(0);
      expect(r.stderr).to.match(
        /carbonscope: warning: the metrics pushed to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics while the command was being started cover no command \(run id [^)]+\)\n/,
      );
    } finally {
      await receiver.close();
    }
  });

  it('reports a command of little CPU by its measured GPU share, the CPU part left out', async () => {
    const dir = tempDirUntilExit('carbonscope-gpu-');
    fakeNvidiaSmi(dir);
    // A shell that writes its pid and becomes sleep: well under /proc's 10 ms of CPU in all,
    // while pmon says its pid keeps the SMs busy (a process that only waits on the GPU).
    const r = await runCommandWithGpu(dir, [
      'sh',
      '-c',
      `echo $$ > ${join(dir, 'cmd.pid')}; exec sleep 3`,
    ]);
    if (process.env.SHOW_SUMMARY) process.stderr.write(r.stderr);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.measurement.commandCpuSeconds, r.stderr).to.be.at.most(0.01);
    const mine = gpuOf(report.energy.components)?.joules ?? 0;
    expect(mine, r.stderr).to.be.above(0);
    expect(report.energy, r.stderr).to.include({ known: true, lowerBound: true, joules: mine });
    expect(report.energy)
      .to.have.property('cpuUnmeasured')
      .that.matches(/within \/proc's 10 ms resolution/);
    expect(report.energy.components.map((c) => c.component)).to.deep.equal(['gpu']);
    expect(report.sci).to.equal(null);
    expect(r.stderr).to.match(/energy of the command: at least [\d.]+ (?:J|Wh) \(/);
    expect(r.stderr).to.match(/\n {2}emissions: at least /);
    expect(r.stderr).to.match(/\n {2}embodied: unknown /);
    const [row] = parseEmissionsCsv(readFileSync(join(dir, 'emissions.csv'), 'utf8')).records;
    expect(Number(row.gpu_energy)).to.be.closeTo(mine / 3.6e6, 1e-12);
    expect(Number(row.energy_consumed)).to.be.closeTo(mine / 3.6e6, 1e-12);
    expect(row.cpu_energy).to.equal('');
    expect(Number(row.emissions)).to.be.above(0);
    expect(row.tracking_mode).to.match(/^process-lower-bound/);
  });

  describe('a GPU nvidia-smi reads only after the start', () => {
    /**
     * Writes its pid and the epoch ms it started at, waits for pmon's header, then runs on for
     * `afterMs` (some of it on the CPU).
     */
    const lateCommand = (dir: string, afterMs: number) =>
      `const fs = require('node:fs');
      fs.writeFileSync(${JSON.stringify(join(dir, 'cmd.at'))}, String(Date.now()));
      fs.writeFileSync(${JSON.stringify(join(dir, 'cmd.pid'))}, String(process.pid));
      const t = setInterval(() => {
        if (!fs.existsSync(${JSON.stringify(join(dir, 'pmon.at'))})) return;
        clearInterval(t);
        const c = process.cpuUsage(); while (process.cpuUsage(c).user < 1e5);
        setTimeout(() => {}, ${afterMs});
      }, 20);`;
    const atOf = (dir: string, name: string) => Number(readFileSync(join(dir, name), 'utf8'));
    const LATE_REASON =
      /^nvidia-smi read its GPUs only after the start: pmon, which tells the share, was started then \((\d+\.\d) s in\); their energy before is in the host figures only$/;

    /**
     * `run` of lateCommand(`afterMs`) on a GPU nvidia-smi reads only on its first try again
     * (300 ms in), whose MIG query answers after `migDelayMs`: its report, once it ended with 0.
     */
    const runLate = async (migDelayMs: number, afterMs: number) => {
      const dir = tempDirUntilExit('carbonscope-gpu-');
      fakeNvidiaSmi(dir, { late: true, migDelayMs });
      const argv = [process.execPath, '-e', lateCommand(dir, afterMs)];
      const r = await runCommandWithGpu(dir, argv, undefined, 300);
      expect(r.code, r.stderr).to.equal(0);
      return { dir, r, report: JSON.parse(r.stdout) as Report };
    };

    it("gives the command its share from pmon's start, said in s from the command's", async () => {
      // The MIG query answers 5 s after pmon's header: the share counts from the header.
      const { dir, r, report } = await runLate(5000, 6000);
      expect(gpuOf(report.energy.components)?.joules, r.stderr).to.be.above(0);
      const reason = report.measurement.gpuShare?.reason ?? '';
      const [, inS] = reason.match(LATE_REASON) ?? [];
      expect(inS, reason).to.not.equal(undefined);
      // From the spawn, which comes before the command's own start (Node's start-up), to pmon's
      // header, which comes before carbonscope reads it. The upper bound leaves 3.5 s to Node's
      // start-up on a loaded machine and still refuses a figure that waited for the MIG query.
      const headerS = (atOf(dir, 'pmon.at') - atOf(dir, 'cmd.at')) / 1000;
      expect(Number(inS)).to.be.within(headerS - 0.05, headerS + 3.5);
      expect(report.measurement.notes).to.include(reason);
    });

    it('says the share started late where the command ends before the MIG query answers', async () => {
      const { r, report } = await runLate(4000, 1000);
      expect(report.measurement.gpuShare?.read, r.stderr).to.equal(true);
      expect(report.measurement.gpuShare?.reason ?? '', r.stderr).to.match(LATE_REASON);
    });
  });
});
