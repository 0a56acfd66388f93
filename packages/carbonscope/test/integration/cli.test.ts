import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { CSV_HEADER, parseEmissionsCsv } from '../../src/cli/csv.js';
import type { Report } from '../../src/cli/report.js';
import { PUSH_TIMEOUT_MS } from '../../src/cli/session.js';
import { loadCatalog } from '../../src/llm/catalog.js';
import { llmImpacts } from '../../src/llm/llm-impacts.js';
import { METRICS } from '../../src/metrics/index.js';
import { libraryRoot as projectRoot } from '../../src/paths.js';
import { VERSION } from '../../src/version.js';
import { StubElectricityMaps } from '../fixtures/grid/stub-electricity-maps.js';
import { cliEnv } from '../helpers/cli-env.js';
import {
  dataPointCount,
  metricsOf,
  type OtlpMetric,
  type OtlpMetricsRequest,
  otlpReceiver,
  stringAttribute,
  sumOf,
} from '../helpers/otlp-receiver.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Deterministic and offline (cliEnv), with short samples. */
const ENV = cliEnv({ ENERGY_SAMPLE_INTERVAL_MS: '250' });

// Spins until it has used 1.5 s of CPU, not of the clock: on a loaded machine a clock-bound loop
// got 0.7–0.9 s of CPU, under the test's bar, while the command did what it should.
const BUSY =
  'const c = process.cpuUsage(); for (;;) { const u = process.cpuUsage(c); if (u.user + u.system >= 1.5e6) break; }';
const IDLE = 'setTimeout(() => {}, 1500)';
const WAIT_4S = 'const t = Date.now(); while (Date.now() - t < 4000);';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /**
   * Seconds from the spawn to the close, as this process saw them: the most the CLI's measured
   * window can hold, however long a loaded machine makes the run.
   */
  lifeSeconds: number;
}

interface CliOptions {
  input?: string;
  env?: Record<string, string>;
  /** Called with the child once its stdout says `ready`. */
  onReady?: (pid: number) => void;
  /** Runs it as the leader of its own process group (and session), whose id is its pid. */
  detached?: boolean;
  /** Called with all of its stderr so far, as each part comes, and its pid. */
  onStderr?: (stderr: string, pid: number) => void;
}

function cli(args: string[], o: CliOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...ENV, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: o.detached ?? false,
    });
    let stdout = '';
    let stderr = '';
    let readySent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (!readySent && o.onReady && stdout.includes('ready') && child.pid) {
        readySent = true;
        o.onReady(child.pid);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (child.pid) o.onStderr?.(stderr, child.pid);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lifeSeconds = (performance.now() - spawnedAt) / 1000;
      resolve({ code, signal, stdout, stderr, lifeSeconds });
    });
    child.stdin.end(o.input ?? '');
  });
}

function node(script: string): string[] {
  return ['--', process.execPath, '-e', script];
}

async function jsonRun(script: string): Promise<Report> {
  const r = await cli(['run', '--json', ...node(script)]);
  expect(r.code, r.stderr).to.equal(0);
  const report = JSON.parse(r.stdout) as Report;
  // Seconds (each script here takes 1.5 s, of CPU or of waiting), inside the CLI's life: a
  // loaded 2-core machine stretched a CPU-bound one past any fixed bound (10 s was passed).
  expect(report.durationSeconds).to.be.within(1.4, r.lifeSeconds);
  return report;
}

/** The sum's points, all of them or those whose `carbonscope.scope` is `process`. */
function processSum(metrics: OtlpMetric[], name: string, phase?: 'usage' | 'embodied'): number {
  const total = sumOf(
    metrics,
    name,
    (p) =>
      !phase ||
      (stringAttribute(p.attributes, 'carbonscope.scope') === 'process' &&
        stringAttribute(p.attributes, 'carbonscope.phase') === phase),
  );
  expect(total, `${name} pushed as a sum`).to.not.equal(undefined);
  return total ?? 0;
}

/** The points of sum `name` in a push; none when it is absent or has none. */
function pointsOf(metrics: OtlpMetric[], name: string) {
  return metrics.find((m) => m.name === name)?.sum?.dataPoints ?? [];
}

/** Starts `server` on a free loopback port and resolves with the port. */
async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Runs `body` with the port of a TCP server that accepts connections and never answers. */
async function withSilentCollector(body: (port: number) => Promise<void>): Promise<void> {
  const sockets: Socket[] = [];
  const silent = createTcpServer((socket) => sockets.push(socket));
  const port = await listenOnLoopback(silent);
  try {
    await body(port);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
}

describe('carbonscope command line', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-cli-');

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a CPU-busy command clearly more energy than an idle one', async () => {
    const busy = await jsonRun(BUSY);
    const idle = await jsonRun(IDLE);
    expect(busy.scope).to.equal('process');
    expect(busy.energy.joules).to.be.greaterThan(0);
    expect(busy.energy.known).to.equal(true);
    expect(busy.measurement.commandCpuSeconds).to.be.greaterThan(1);
    expect(busy.energy.joules).to.be.greaterThan(3 * idle.energy.joules);
    expect(busy.energy.estimated).to.equal(true);
    expect(busy.grid).to.include({ zone: 'DE', carbonIntensity: 300, source: 'fixed' });
    // emissions = energy (kWh) x 300 g/kWh x PUE 1
    expect(busy.emissions.grams).to.be.closeTo((busy.energy.joules / 3.6e6) * 300, 1e-12);
    expect(busy.measurement.cpuTime).to.match(/\/proc/);
    // The command's SCI: E × I plus its share of the hardware's embodied emissions, per run.
    expect(busy.embodied.grams).to.be.greaterThan(3 * idle.embodied.grams);
    expect(busy.sci).to.deep.include({
      operationalGrams: busy.emissions.grams,
      embodiedGrams: busy.embodied.grams,
      units: 1,
      unit: 'run',
      estimated: true,
    });
    expect(busy.sci?.gramsPerUnit).to.equal(busy.emissions.grams + busy.embodied.grams);
  });

  it("says a command within /proc's 10 ms resolution is not measured instead of 0 J", async function () {
    if (process.platform !== 'linux') this.skip();
    const file = join(dir, 'below-resolution.csv');
    const r = await cli(['run', '--json', '-o', file, '--', 'true']);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Report;
    // 0 or, about 1 run in 10, one tick: either is within the resolution.
    expect(report.measurement.commandCpuSeconds).to.be.at.most(0.01);
    expect(report.energy.known).to.equal(false);
    expect(report.energy.unknownReason).to.match(/at most 10 ms of CPU: within \/proc's 10 ms res/);
    expect(report.sci).to.equal(null);
    expect(r.stderr).to.contain(
      "energy of the command: unknown (at most 10 ms of CPU: within /proc's 10 ms resolution, not measured)",
    );
    expect(r.stderr).to.not.match(/energy of the command: 0 J/);
    const [row] = parseEmissionsCsv(readFileSync(file, 'utf8')).records;
    expect(row.energy_consumed).to.equal('');
    expect(row.emissions).to.equal('');
  });

  it('counts the CPU time of grandchildren', async () => {
    const grandchild = `require('node:child_process').execFileSync(process.execPath, ['-e', ${JSON.stringify(BUSY)}])`;
    const viaChild = await jsonRun(grandchild);
    const idle = await jsonRun(IDLE);
    expect(viaChild.energy.joules).to.be.greaterThan(3 * idle.energy.joules);
  });

  it('says when a process of the command outlived it outside the tree, not waited for', async () => {
    // A child left behind as the command exits: re-parented away, its CPU after that not counted.
    const script = `const c = require('node:child_process').spawn('sleep', ['5'], { stdio: 'ignore' });
      process.stderr.write('orphan:' + c.pid + ';'); c.unref(); setTimeout(() => process.exit(0), 1500);`;
    const r = await cli(['run', '--json', '--interval', '200ms', ...node(script)]);
    const orphan = Number(/orphan:(\d+);/.exec(r.stderr)?.[1]);
    try {
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.measurement.commandProcessesLeftRunning).to.equal(1);
      expect(report.measurement.notes).to.include.members([
        "1 process left the command's process tree still running (orphaned or daemonized): its CPU time from then on is not counted, and run did not wait for it",
      ]);
    } finally {
      if (orphan > 0) process.kill(orphan, 'SIGKILL');
    }
  });

  it('passes the exit code through', async () => {
    const r = await cli(['run', ...node('process.exit(7)')]);
    expect(r.code).to.equal(7);
    expect(r.stderr).to.match(/exited with code 7/);
  });

  it('ends by the signal that killed the command, which a shell reads as 128+N', async () => {
    const file = join(dir, 'killed.csv');
    rmSync(file, { force: true });
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const r = await cli(['run', '-o', file, '--', 'sh', '-c', `kill -${signal.slice(3)} $$`]);
      expect({ code: r.code, signal: r.signal }, r.stderr).to.deep.equal({ code: null, signal });
      expect(r.stderr).to.contain(`was killed by ${signal}`);
    }
    // Its figures are written first.
    expect(parseEmissionsCsv(readFileSync(file, 'utf8')).records).to.have.length(2);
  });

  it('ends by SIGPIPE when that killed the command (yes | head), though Node ignores it', async () => {
    // Raised on a Node that ignores it, it came to nothing: 141, a second later.
    const r = await cli(['run', '--', 'sh', '-c', 'kill -PIPE $$']);
    expect({ code: r.code, signal: r.signal }).to.deep.equal({ code: null, signal: 'SIGPIPE' });
  });

  it('exits 128+N at once as PID 1 (a container without --init), where no signal can end it', async () => {
    // PID 1 of a PID namespace: unshare needs root (or user namespaces) to make one.
    const unshare = ['unshare', '-fp', '--mount-proc', process.execPath, MAIN];
    const probe = spawnSync(unshare[0], [...unshare.slice(1), '--version'], { env: ENV });
    expect(probe.status, 'this test needs `unshare -fp` (root or user namespaces)').to.equal(0);
    // The raise emits 'exit' itself, then its fallback's process.exit emits it again: the
    // process told twice waited for a raised signal, which PID 1 does not get.
    const exitEvents = join(dir, 'exit-events.cjs');
    writeFileSync(
      exitEvents,
      "process.on('exit', () => process.stderr.write('test: exit event\\n'));",
    );
    const child = spawn(
      unshare[0],
      [...unshare.slice(1), 'run', '--', 'sh', '-c', 'kill -TERM $$'],
      {
        env: { ...ENV, NODE_OPTIONS: `--require ${exitEvents}` },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).to.equal(143);
    expect(stderr.match(/^test: exit event$/gm), stderr).to.have.length(1);
  });

  it('exits 128+N for a signal that would dump core, without dumping one itself', async () => {
    const r = await cli(['run', ...node("process.kill(process.pid, 'SIGQUIT')")]);
    expect({ code: r.code, signal: r.signal }).to.deep.equal({ code: 131, signal: null });
    expect(r.stderr).to.match(/was killed by SIGQUIT/);
  });

  it('lets Ctrl-C stop a script that runs it, as it stops one that runs the command itself', async () => {
    expect(existsSync('/bin/bash'), 'this test needs /bin/bash').to.equal(true);
    // bash goes on after a command that Ctrl-C did not kill (it took the signal as handled), and
    // stops after one it killed: carbonscope must end as its command did for the loop to stop.
    const script = `"$0" "$1" run -- "$0" -e "console.log('ready'); setInterval(() => {}, 1000)"; echo after`;
    const child = spawn('/bin/bash', ['-c', script, process.execPath, MAIN], {
      env: ENV,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      const first = !stdout.includes('ready');
      stdout += d;
      if (first && stdout.includes('ready') && child.pid) process.kill(-child.pid, 'SIGINT');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect(stdout).to.not.include('after');
    expect({ code, signal }).to.deep.equal({ code: null, signal: 'SIGINT' });
  });

  it('forwards a signal to the command: a command that handles it decides the exit', async () => {
    const script =
      "process.on('SIGTERM', () => process.exit(42)); console.log('ready'); setInterval(() => {}, 1000)";
    const r = await cli(['run', ...node(script)], {
      onReady: (pid) => process.kill(pid, 'SIGTERM'),
    });
    expect(r.code).to.equal(42);
    expect(r.stderr).to.match(/energy of the command/);
    expect(r.stderr).to.match(/\n {2}embodied: \S+ \S*g CO2e \(estimated: the command's share of /);
    expect(r.stderr).to.match(
      /\n {2}SCI: \S+ \S*g CO2e per run = \(E×I \S+ \S*g \+ M \S+ \S*g\) \/ R 1 run \(estimated\)/,
    );
  });

  it('forwards a signal to the command: one that does not handle it dies, and so does run', async () => {
    const r = await cli(['run', ...node("console.log('ready'); setInterval(() => {}, 1000)")], {
      onReady: (pid) => process.kill(pid, 'SIGINT'),
    });
    expect({ code: r.code, signal: r.signal }).to.deep.equal({ code: null, signal: 'SIGINT' });
    expect(r.stderr).to.match(/was killed by SIGINT/);
  });

  it('gets a signal to the command once, whether sent to its process group or to carbonscope', async () => {
    // Ctrl-C: the terminal signals the whole foreground group, carbonscope and the command.
    // The command counts what it gets, and ends a while after the first with 40 + the count.
    const counted = (file: string) =>
      node(
        `let n = 0; process.on('SIGINT', () => { require('node:fs').writeFileSync(${JSON.stringify(file)}, String(++n)); if (n === 1) setTimeout(() => process.exit(40 + n), 1500); }); console.log('ready'); setInterval(() => {}, 1000)`,
      );
    const toGroup = join(dir, 'sigint-group.txt');
    const group = await cli(['run', ...counted(toGroup)], {
      detached: true,
      onReady: (pid) => process.kill(-pid, 'SIGINT'),
    });
    expect(readFileSync(toGroup, 'utf8'), 'SIGINTs the command got').to.equal('1');
    expect(group.code, group.stderr).to.equal(41);
    // `kill -INT` of carbonscope alone: the command gets it from carbonscope, once.
    const toCli = join(dir, 'sigint-cli.txt');
    const alone = await cli(['run', ...counted(toCli)], {
      detached: true,
      onReady: (pid) => process.kill(pid, 'SIGINT'),
    });
    expect(readFileSync(toCli, 'utf8'), 'SIGINTs the command got').to.equal('1');
    expect(alone.code, alone.stderr).to.equal(41);
  });

  it('Ctrl-C (SIGINT to the whole group): one summary, one CSV row, one report, then the signal', async () => {
    const file = join(dir, 'ctrl-c.csv');
    rmSync(file, { force: true });
    const r = await cli(
      ['run', '--json', '-o', file, ...node("console.log('ready'); setInterval(() => {}, 1000)")],
      { detached: true, onReady: (pid) => process.kill(-pid, 'SIGINT') },
    );
    expect({ code: r.code, signal: r.signal }, r.stderr).to.deep.equal({
      code: null,
      signal: 'SIGINT',
    });
    expect(r.stderr.match(/was killed by SIGINT after/g), r.stderr).to.have.length(1);
    expect(r.stderr.match(/CSV: appended a row/g), r.stderr).to.have.length(1);
    expect(parseEmissionsCsv(readFileSync(file, 'utf8')).records).to.have.length(1);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Report;
    expect(report.exit).to.deep.include({ code: null, signal: 'SIGINT', exitCode: 130 });
  });

  it('forwards stdin, stdout and stderr', async () => {
    const script =
      "let s=''; process.stdin.on('data', d => s += d); process.stdin.on('end', () => { process.stdout.write(s.toUpperCase()); process.stderr.write('to-stderr\\n'); })";
    const r = await cli(['run', ...node(script)], { input: 'hello through carbonscope' });
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal('HELLO THROUGH CARBONSCOPE');
    expect(r.stderr).to.match(/^to-stderr\n/);
  });

  it('appends CodeCarbon rows to the CSV, header once, and they parse back', async () => {
    const file = join(dir, 'emissions.csv');
    const lives: number[] = [];
    for (const name of ['first', 'second']) {
      const r = await cli(['run', '-o', file, '--project-name', name, ...node(BUSY)]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.contain(`CSV: appended a row to ${file}`);
      lives.push(r.lifeSeconds);
    }
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).to.equal(CSV_HEADER);
    expect(text.split('\n').filter((l) => l === CSV_HEADER)).to.have.length(1);
    const { records } = parseEmissionsCsv(text);
    expect(records.map((r) => r.project_name)).to.deep.equal(['first', 'second']);
    for (const [i, row] of records.entries()) {
      const kwh = Number(row.energy_consumed);
      expect(kwh).to.be.greaterThan(0);
      expect(Number(row.cpu_energy) + Number(row.ram_energy)).to.be.closeTo(kwh, kwh * 1e-9);
      expect(Number(row.emissions)).to.be.closeTo((kwh * 300) / 1000, 1e-15);
      // Seconds (1.5 s of CPU at least), within the CLI's life, as jsonRun checks the report's.
      expect(Number(row.duration)).to.be.within(1.4, lives[i] ?? 0);
      expect(row.run_id).to.match(/^[0-9a-f-]{36}$/);
      expect(row.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(row).to.include({
        // The estimate source (ENV above): the row says the energy is modelled.
        tracking_mode: 'process-estimated',
        country_iso_code: 'DEU',
        // A float, written as Python writes it (CodeCarbon's `1.0`).
        pue: '1.0',
        python_version: '',
        codecarbon_version: '',
        water_consumed: '',
        gpu_energy: '',
        // The estimate looks for no GPU: how many there are is not known.
        gpu_count: '',
      });
    }
  });

  it('prints valid JSON for scripts on stdout, after the command output', async () => {
    const r = await cli(['run', '--json', ...node('1')]);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.command).to.equal('run');
    expect(report.exit).to.deep.equal({ code: 0, signal: null, exitCode: 0 });
    expect(report.runId).to.match(/^[0-9a-f-]{36}$/);
  });

  it('names every grid source that priced the run with its share of the energy, not the last alone', async () => {
    // Electricity Maps fails the first two lookups (each with its two retries): the annual
    // average prices the start, its live value the rest once a lookup after the 1 s TTL gets one.
    const grid = new StubElectricityMaps('em-KEY-shares');
    await grid.start();
    grid.next(...Array.from({ length: 6 }, () => ({ status: 503, body: '{}' })));
    try {
      // 4 s of the clock, for the lookups after the TTL: two of them fail, the third answers.
      const r = await cli(['run', '--json', ...node(WAIT_4S)], {
        env: {
          CARBON_INTENSITY: '',
          ELECTRICITY_MAPS_API_KEY: 'em-KEY-shares',
          ELECTRICITY_MAPS_BASE_URL: grid.url,
          GRID_CACHE_TTL_SECONDS: '1',
        },
      });
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as Report;
      // The last sample's source, as before.
      expect(report.grid.source, r.stderr).to.equal('electricity-maps');
      const sources = report.grid.sources;
      expect(sources.map((s) => s.source).sort(), r.stderr).to.deep.equal([
        'annual-average',
        'electricity-maps',
      ]);
      const joules = sources.reduce((sum, s) => sum + s.joules, 0);
      expect(joules).to.be.closeTo(report.energy.joules, 1e-9 * joules);
      expect(sources.reduce((sum, s) => sum + s.share, 0)).to.be.closeTo(1, 1e-12);
      // Each priced its own energy at its own intensity: together they are the emissions.
      const grams = sources.reduce((sum, s) => sum + (s.joules * s.carbonIntensity) / 3.6e6, 0);
      expect(grams * report.pue).to.be.closeTo(report.emissions.grams, 1e-9 * grams);
      expect(sources.find((s) => s.source === 'electricity-maps')?.carbonIntensity).to.equal(322);
      const percent = (s: (typeof sources)[number]) =>
        `${Math.round(s.share * 100)} %${s.source === sources[0]?.source ? ' of the energy' : ''}`;
      const kind = (s: (typeof sources)[number]) => (s.estimated ? 'estimated' : 'live');
      expect(r.stderr).to.contain(
        `\n  intensity: ${sources.map((s) => `${s.source} (${percent(s)}, ${kind(s)})`).join(', ')}\n`,
      );
      expect(r.stderr).to.match(
        /\n {2}emissions: .* CO2e \(zone DE: \d+ gCO2e\/kWh on average; PUE 1\)\n/,
      );
    } finally {
      await grid.close();
    }
  });

  it('monitor --duration stops by itself with lines and a summary', async () => {
    // One that did not stop would end at mocha's timeout; its own figure of 3 s is read below.
    const r = await cli(['monitor', '--duration', '3s', '--interval', '1s', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}[\d.]+ W/.test(l));
    expect(lines.length).to.be.within(3, 5);
    expect(r.stderr).to.match(/carbonscope monitor: whole machine for 3\.\d\d s/);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.scope).to.equal('host');
    expect(report.durationSeconds).to.be.within(2.9, 4);
    expect(report.energy.joules).to.be.greaterThan(0);
  });

  // Its lines tell local time: with no zone said anywhere, the hour repeated as summer time ends
  // read alike. ICU takes its locale from LC_ALL: Arabic-Indic digits there would be Intl's.
  it('monitor says the zone and UTC offset of its times, in ASCII digits under ar_EG', async () => {
    const r = await cli(['monitor', '-d', '600ms', '--interval', '250ms', '--json'], {
      env: { TZ: 'Europe/Berlin', LC_ALL: 'ar_EG.UTF-8', LANG: 'ar_EG.UTF-8' },
    });
    expect(r.code, r.stderr).to.equal(0);
    const said = r.stderr.split('\n');
    const zone = said.findIndex((l) =>
      /^carbonscope: times are Europe\/Berlin, UTC\+0[12]:00$/.test(l),
    );
    const firstLine = said.findIndex((l) => /^\d\d:\d\d:\d\d {2}[\d.]+ W/.test(l));
    expect(zone, r.stderr).to.be.at.least(0);
    expect(firstLine, r.stderr).to.be.greaterThan(zone);
    expect(r.stderr + r.stdout).to.not.match(/[\u0660-\u0669\u06f0-\u06f9]/);
    // The machine-readable times are UTC, with their Z.
    const report = JSON.parse(r.stdout) as Report;
    expect(report.startedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(report.endedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  // A POSIX rule in TZ (`NPT-5:45`, `CET-1CEST,M3.5.0,M10.5.0/3`) is read by `date` and by
  // CodeCarbon (Python's strftime) but not by Node's ICU, which runs on UTC for it: the CSV's
  // timestamp was 5 h 45 min behind CodeCarbon's row on the same machine, and nothing said so.
  it('warns once where Node runs on UTC for a TZ it cannot read, not for a zone or UTC', async () => {
    const warned = async (tz: string) => {
      const r = await cli(['run', '--', process.execPath, '-e', ''], { env: { TZ: tz } });
      expect(r.code, r.stderr).to.equal(0);
      return r.stderr.split('\n').filter((l) => l.includes('warning: TZ'));
    };
    expect(await warned('NPT-5:45')).to.deep.equal([
      'carbonscope: warning: TZ "NPT-5:45" is no zone Node knows, so its times are UTC (`date` and ' +
        'CodeCarbon may read it otherwise); name the zone as IANA does, e.g. TZ=Europe/Berlin',
    ]);
    expect(await warned('Asia/Kathmandu')).to.deep.equal([]);
    expect(await warned('UTC0')).to.deep.equal([]);
  });

  it('monitor stops cleanly on SIGINT with a summary', async () => {
    let sent = false;
    const child = spawn(process.execPath, [MAIN, 'monitor', '--interval', '500ms'], { env: ENV });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (!sent && / W( \(estimated\))? {2}·/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).to.equal(0);
    expect(stderr).to.match(/carbonscope monitor: whole machine/);
  });

  // A Ctrl-C in its first 0.3 s, while its modules load, ended it by Node's default: status
  // 130 and nothing printed. A preload sends it as main asks for its first module (args.js),
  // before all the others load: at the same point on a loaded machine as on an idle one. main
  // loads them by require() (load-module.ts), which goes through Module._load; an ESM loader
  // hook, as this test had, sees no require() on Node 20, and the signal never went.
  it('monitor stopped by Ctrl-C while it starts ends as a later Ctrl-C does: its summary', () => {
    const preload = join(dir, 'ctrl-c-at-args.cjs');
    writeFileSync(
      preload,
      `const Module = require('node:module');
const load = Module._load;
let sent = false;
Module._load = function (request, ...rest) {
  if (!sent && request === './args.js') {
    sent = true;
    process.kill(process.pid, 'SIGINT');
  }
  return load.call(this, request, ...rest);
};
`,
    );
    const args = ['--require', preload, MAIN, 'monitor', '--interval', '500ms'];
    const r = spawnSync(process.execPath, args, { env: ENV, encoding: 'utf8', timeout: 30_000 });
    expect({ code: r.status, signal: r.signal }, r.stderr).to.deep.equal({ code: 0, signal: null });
    expect(r.stderr).to.match(/carbonscope monitor: whole machine for /);
  });

  // A first Ctrl-C while it starts waits for the start, to end with the summary: a start held
  // by a GPU probe (nvidia-smi that hangs: 3 intervals + 2 s) took every Ctrl-C and kept the
  // user waiting. A second one then ends it at once, by Ctrl-C, as before it took them at all.
  it('monitor ends at once on a second Ctrl-C while it starts', async () => {
    const bin = join(dir, 'hung-nvidia-smi');
    const pidFile = join(bin, 'pid');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'nvidia-smi'), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 60\n`, {
      mode: 0o755,
    });
    const env = {
      ...ENV,
      ENERGY_SOURCE: '',
      ENERGY_POWERCAP_ROOT: join(dir, 'no-powercap'),
      PATH: `${bin}:${process.env.PATH}`,
    };
    const child = spawn(process.execPath, [MAIN, 'monitor', '--interval', '10s'], { env });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (code, signal) => resolve([code, signal])),
    );
    let ctrlC: NodeJS.Timeout | undefined;
    try {
      // Its probe has begun: main took the stop signals long before.
      const probed = () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n');
      await waitFor('its GPU probe', probed, 20_000);
      // Again and again, as a user would: two sent at once may reach it as one.
      ctrlC = setInterval(() => child.kill('SIGINT'), 200);
      const [code, signal] = await closed;
      expect({ code, signal, summary: /whole machine for/.test(stderr) }, stderr).to.deep.equal({
        code: null,
        signal: 'SIGINT',
        summary: false,
      });
    } finally {
      clearInterval(ctrlC);
      child.kill('SIGKILL');
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
        } catch {}
      }
    }
  });

  // SIGQUIT (Ctrl-\) and SIGUSR2 ended it by Node's default, killed with no summary and no row.
  for (const stopSignal of ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const) {
    it(`monitor stops on ${stopSignal}: its last sample printed, one row, exit 0`, async () => {
      const file = join(dir, `monitor-${stopSignal}.csv`);
      rmSync(file, { force: true });
      const args = ['monitor', '--interval', '500ms', '-o', file];
      const child = spawn(process.execPath, [MAIN, ...args], { env: ENV });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        const lines = (stderr.match(/ so far /g) ?? []).length;
        stderr += d;
        // The second line: the stop's sample is then a third, not the first.
        if (lines < 2 && (stderr.match(/ so far /g) ?? []).length >= 2) child.kill(stopSignal);
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      );
      expect({ code, signal }, stderr).to.deep.equal({ code: 0, signal: null });
      // The stop takes a last sample and prints it: its total is the summary's.
      const soFar = [...stderr.matchAll(/ {2}· (\S+ \S*Wh|\S+ k?J) so far/g)].map((m) => m[1]);
      const total = /\n {2}energy: (\S+ \S*Wh|\S+ k?J) /.exec(stderr)?.[1];
      expect(soFar.length, stderr).to.be.at.least(3);
      expect(soFar.at(-1), stderr).to.equal(total);
      expect(stderr.match(/CSV: appended a row/g), stderr).to.have.length(1);
      expect(parseEmissionsCsv(readFileSync(file, 'utf8')).records).to.have.length(1);
    });
  }

  it('monitor still writes its CSV row and ends as it should when Ctrl-C is pressed again', async () => {
    await withSilentCollector(async (port) => {
      const file = join(dir, 'monitor-again.csv');
      rmSync(file, { force: true });
      const args = [
        'monitor',
        '--interval',
        '500ms',
        '-o',
        file,
        '--otlp',
        `http://127.0.0.1:${port}`,
      ];
      const child = spawn(process.execPath, [MAIN, ...args], { env: ENV });
      let stderr = '';
      let sent = 0;
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        if (sent === 0 && / W( \(estimated\))? {2}·/.test(stderr)) {
          sent = 1;
          // An impatient user: the second comes while the first is still being handled.
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGINT'), 5);
        }
        // And another while the last push waits on a collector that never answers.
        if (sent === 1 && stderr.includes('CSV: ')) {
          sent = 2;
          setTimeout(() => child.kill('SIGINT'), 100);
        }
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      );
      // 1: the push failed; the row was written all the same.
      expect({ code, signal }, stderr).to.deep.equal({ code: 1, signal: null });
      expect(parseEmissionsCsv(readFileSync(file, 'utf8')).records).to.have.length(1);
    });
  });

  it("run keeps the command's exit code when a signal comes while it writes its figures", async () => {
    await withSilentCollector(async (port) => {
      let sent = false;
      const r = await cli(
        ['run', '--otlp', `http://127.0.0.1:${port}`, ...node('process.exit(3)')],
        {
          // The summary is out and the last push waits on a collector that never answers.
          onStderr: (stderr, pid) => {
            if (!sent && stderr.includes('power from:')) {
              sent = true;
              setTimeout(() => process.kill(pid, 'SIGINT'), 100);
            }
          },
        },
      );
      expect({ code: r.code, signal: r.signal }, r.stderr).to.deep.equal({ code: 3, signal: null });
      expect(r.stderr).to.match(/could not push metrics to /);
    });
  });

  it('monitor ends quietly, summary and all, when the reader of its lines goes away', async () => {
    // A duration past mocha's timeout: only the closed pipe can end it in time.
    const args = ['monitor', '-d', '10m', '--interval', '100ms', '--json'];
    const child = spawn(process.execPath, [MAIN, ...args], { env: ENV });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    // As `carbonscope monitor 2>&1 | head -2` does: read a line or two, then close the pipe.
    child.stderr.once('data', () => child.stderr.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stdout).to.equal(0);
    expect((JSON.parse(stdout) as Report).command).to.equal('monitor');
  });

  // `--source rapl` warned "ENERGY_SOURCE=rapl cannot be read": a variable the user never set.
  it('names --source, not ENERGY_SOURCE, in the warning about a source it cannot read', async () => {
    for (const source of ['rapl', 'nvidia-smi']) {
      const r = await cli(['monitor', '--source', source, '-d', '200ms', '--interval', '100ms'], {
        env: { ENERGY_SOURCE: '', ENERGY_POWERCAP_ROOT: join(dir, 'no-powercap'), PATH: '/bin' },
      });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include(`carbonscope: warning: --source ${source} cannot be read (`);
      expect(r.stderr).to.not.include('ENERGY_SOURCE');
    }
  });

  // Its "power from:" reasons quote a path, an exporter's or nvidia-smi's words: an ESC there
  // reached the terminal as it was, and a U+202E drew the rest of the line reversed.
  it('writes a control character of its summary as its escape, as its log lines do', async () => {
    const root = join(dir, 'x\u001b[2Jy\u202ez');
    const r = await cli(['monitor', '-d', '200ms', '--interval', '100ms'], {
      env: { ENERGY_SOURCE: 'auto', ENERGY_POWERCAP_ROOT: root },
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('x\\u001b[2Jy\\u202ez');
    expect(r.stderr).to.not.include('\u001b').and.not.include('\u202e');
  });

  // `impacts --json > impacts.json` on a full disk exited 0 with an empty file, as did monitor's
  // --json: a script took it for figures written. A reader that goes away (`| head`) is no error.
  it('says so and exits 1 where its figures cannot be written to stdout (a full disk)', async () => {
    for (const args of [
      ['impacts', '-m', 'gpt-4o', '-n', '10', '--json'],
      ['impacts', '-m', 'gpt-4o', '-n', '10'],
      ['monitor', '-d', '300ms', '--interval', '100ms', '--json'],
    ]) {
      const full = openSync('/dev/full', 'w');
      const r = spawnSync(process.execPath, [MAIN, ...args], {
        env: ENV,
        stdio: ['ignore', full, 'pipe'],
        encoding: 'utf8',
      });
      closeSync(full);
      expect({ code: r.status, signal: r.signal }, `${args[0]}: ${r.stderr}`).to.deep.equal({
        code: 1,
        signal: null,
      });
      expect(r.stderr.split('\n').at(-2), args.join(' ')).to.equal(
        'carbonscope: could not write to stdout: its file system is full',
      );
    }
  });

  // Where the figures are lost (a full disk), `run` still leaves with its command's code; where
  // their reader leaves (`| head`), nothing is lost that was wanted: no line, no exit 1.
  it("keeps run's command code on a full disk, and a stdout reader that goes away no error", async () => {
    const full = openSync('/dev/full', 'w');
    const r = spawnSync(process.execPath, [MAIN, 'run', '--json', ...node('process.exit(3)')], {
      env: ENV,
      stdio: ['ignore', full, 'pipe'],
      encoding: 'utf8',
    });
    closeSync(full);
    expect(r.status, r.stderr).to.equal(3);
    expect(r.stderr).to.include('carbonscope: could not write to stdout: its file system is full');

    for (const args of [
      ['impacts', '-m', 'gpt-4o', '-n', '10', '--json'],
      ['monitor', '-d', '300ms', '--interval', '100ms', '--json'],
    ]) {
      const child = spawn(process.execPath, [MAIN, ...args], {
        env: ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code, `${args[0]}: ${stderr}`).to.equal(0);
      expect(stderr, args[0]).to.not.include('could not write');
    }
  });

  it("run keeps the command's exit code when its own stderr reader goes away", async () => {
    const child = spawn(process.execPath, [MAIN, 'run', ...node('setTimeout(() => {}, 500)')], {
      env: ENV,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.destroy(); // the summary is then written to a pipe nobody reads
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).to.equal(0);
  });

  it('exits 127 with a clear message for an unknown command', async () => {
    const r = await cli(['run', '--', 'carbonscope-no-such-command-xyz', 'arg']);
    expect(r.code).to.equal(127);
    expect(r.stderr).to.contain('command not found: carbonscope-no-such-command-xyz');
    // One line, an escape sequence in the name shown, not run by the terminal.
    const odd = await cli(['run', '--', 'no-such\u001b[2J\ncommand']);
    expect(odd.code).to.equal(127);
    expect(odd.stderr).to.equal('carbonscope: command not found: no-such\\u001b[2J\\ncommand\n');
  });

  // Both said `command not found: ./deploy.sh`, of a script that is there: the exec's ENOENT
  // was its #! line's interpreter's, a CR after it where the script has Windows line ends.
  it('exits 127 naming the missing interpreter of a script that exists', async () => {
    const scripts = join(dir, 'scripts');
    mkdirSync(scripts, { recursive: true });
    const crlf = join(scripts, 'crlf.sh');
    writeFileSync(crlf, '#!/bin/sh\r\necho hi\r\n', { mode: 0o755 });
    writeFileSync(join(scripts, 'no-interp'), '#! /no/such/interp -e\n', { mode: 0o755 });
    const r = await cli(['run', '--', crlf]);
    expect(r.code).to.equal(127);
    expect(r.stderr).to.equal(
      `carbonscope: cannot run ${crlf}: its interpreter /bin/sh\\r (its #! line) was not found (the script has Windows line ends, CRLF)\n`,
    );
    // Found in PATH, as the exec finds it.
    const inPath = await cli(['run', '--', 'no-interp'], {
      env: { PATH: `${scripts}:${process.env.PATH ?? ''}` },
    });
    expect(inPath.code).to.equal(127);
    expect(inPath.stderr).to.equal(
      'carbonscope: cannot run no-interp: its interpreter /no/such/interp (its #! line) was not found\n',
    );
  });

  it('exits 126 for a command that is a folder, and says so', async () => {
    const r = await cli(['run', '--', dir]);
    expect(r.code).to.equal(126);
    expect(r.stderr).to.equal(`carbonscope: cannot run ${dir}: it is a folder\n`);
  });

  // Node throws these from spawn, where ENOENT and EACCES come as its `error` event: each was
  // `carbonscope: error: Error: spawn ELOOP`, exit 1, the line of a crash; a shell exits 126.
  it('exits 126 for a symlink loop, a path through a file or a name too long, and says why', async () => {
    const loop = join(dir, 'loop1');
    symlinkSync('loop2', loop);
    symlinkSync('loop1', join(dir, 'loop2'));
    const long = `/${'a'.repeat(5000)}`;
    for (const [command, why] of [
      [loop, 'too many levels of symbolic links (ELOOP)'],
      ['/etc/passwd/x', 'a part of its path is no folder (ENOTDIR)'],
      [long, 'its name is too long (ENAMETOOLONG)'],
    ]) {
      const r = await cli(['run', '--', command]);
      expect(r.code, why).to.equal(126);
      expect(r.stderr).to.equal(`carbonscope: cannot run ${command}: ${why}\n`);
    }
  });

  it('prints usage and exits 2 for a bad option', async () => {
    for (const args of [
      ['run', '--bogus', '--', 'true'],
      ['monitor', '--interval', 'often'],
      ['run', '--zone', 'nowhere', '--', 'true'],
      ['run', '--', ''],
      ['frobnicate'],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/Usage: carbonscope/);
    }
  });

  // stdout carries only what was asked for (--help, --json): a pipe got the usage, exit 2.
  it('refuses a bare carbonscope on stderr, the usage after, exit 2', async () => {
    const r = await cli([]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    const [refusal, blank, usage] = r.stderr.split('\n', 3);
    expect([refusal, blank]).to.deep.equal([
      'carbonscope: no command given (expected run, monitor or impacts)',
      '',
    ]);
    expect(usage).to.equal('Usage: carbonscope <command> [options]');
  });

  // A URL that does not parse still has its password masked, wherever it shows: a password of
  // one letter would mask that letter throughout the usage, so this one is a word of its own.
  it('masks the password of an --otlp URL that does not parse', async () => {
    const r = await cli(['run', '--otlp', 'http://u:Pw-0d2f@[::1', '--', 'true']);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/Usage: carbonscope/);
    expect(r.stderr).not.to.contain('Pw-0d2f');
  });

  it('refuses a well-formed --zone no data knows, naming the option (exit 2)', async () => {
    const r = await cli(['run', '--zone', 'UK', '--', 'true'], { env: { CARBON_INTENSITY: '' } });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/--zone: unknown zone "UK"/);
  });

  // --source was put in after the checks: a Kepler URL it never reads was ignored unsaid, and
  // an ENERGY_SOURCE it replaced could still stop the run.
  it('checks --source as ENERGY_SOURCE would be, naming the option (exit 2)', async () => {
    const url = { KEPLER_METRICS_URL: 'http://node:28282/metrics' };
    const unread = await cli(['run', '--source', 'estimate', '--', 'true'], { env: url });
    expect(unread.code, unread.stderr).to.equal(0);
    expect(unread.stderr).to.include(
      'KEPLER_METRICS_URL is set but not read: the source is estimate',
    );
    const needs = await cli(['run', '--source', 'kepler', '--', 'true'], { env: {} });
    expect(needs.code, needs.stderr).to.equal(2);
    expect(needs.stderr).to.match(/^carbonscope: --source: kepler needs KEPLER_METRICS_URL/);
    const replaced = await cli(['run', '--source', 'estimate', '--', 'true'], {
      env: { ENERGY_SOURCE: 'kepler' },
    });
    expect(replaced.code, replaced.stderr).to.equal(0);
  });

  it('refuses a malformed GRID_STALE_MAX_AGE_SECONDS before running anything (exit 2)', async () => {
    const r = await cli(['run', '--', 'true'], { env: { GRID_STALE_MAX_AGE_SECONDS: '3h' } });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/^carbonscope: invalid setting GRID_STALE_MAX_AGE_SECONDS: /);
    expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
  });

  // As the service words it; exit 2 as for a bad option: the command was called wrongly (its
  // environment is part of the call) and nothing was measured. 1 is a failure while measuring.
  it('names an invalid setting as the service does, exit 2 without the usage, in each command', async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['run', ...node('console.log("ran")')], { PUE: 'abc' }, 'PUE: expected a decimal number'],
      [['monitor', '-d', '1s'], { CARBON_ZONE: 'nowhere' }, 'CARBON_ZONE: '],
      [
        ['impacts', '-m', 'gpt-4o', '-n', '10'],
        { LLM_MODELS_FILE: join(dir, 'no-such-models.json') },
        'LLM_MODELS_FILE: ',
      ],
    ];
    for (const [args, env, named] of cases) {
      const r = await cli(args, { env });
      expect(r.code, `${args[0]}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args[0]).to.match(
        new RegExp(`^carbonscope: invalid setting ${named}.*\\n$`),
      );
      expect(r.stdout, args[0]).to.equal('');
    }
  });

  it('refuses a CSV it cannot write before measuring anything, in one line (exit 2)', async () => {
    const file = join(dir, 'missing-folder', 'emissions.csv');
    const ran = join(dir, 'ran-anyway');
    for (const args of [
      ['run', '-o', file, ...node(`require('node:fs').writeFileSync(${JSON.stringify(ran)}, '')`)],
      ['monitor', '-o', file, '-d', '10s'],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.equal(
        `carbonscope: --output: cannot write ${file}: its folder does not exist\n`,
      );
    }
    expect(existsSync(ran), 'the command ran').to.equal(false);
    const folder = await cli(['run', '-o', dir, '--', 'true']);
    expect(folder.code, folder.stderr).to.equal(2);
    expect(folder.stderr).to.equal(`carbonscope: --output: cannot write ${dir}: it is a folder\n`);
  });

  it('says the CSV cannot be written at the end and still prints the summary', async () => {
    const folder = join(dir, 'removed-folder');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'emissions.csv');
    // The folder was there at the start; the command removes it.
    const remove = `require('node:fs').rmSync(${JSON.stringify(folder)}, { recursive: true })`;
    const r = await cli(['run', '-o', file, ...node(remove)]);
    expect(r.code).to.equal(0); // the command's status, not the CSV's
    expect(r.stderr).to.contain(`cannot write ${file}: its folder does not exist`);
    expect(r.stderr).to.match(/energy of the command: /);
    expect(r.stderr).to.contain('CSV: NOT written');
  });

  it('writes the CSV to a pipe: -o /dev/stdout | ...', async () => {
    expect(existsSync('/dev/stdout'), 'this test needs /dev/stdout').to.equal(true);
    // A pipe, not the socket Node gives a child for 'pipe' (which /dev/stdout cannot open).
    const script = '"$0" "$1" run -o /dev/stdout -- true | cat';
    const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const args = ['-c', script, process.execPath, MAIN];
      execFile('/bin/sh', args, { env: ENV }, (_err, stdout, stderr) =>
        resolve({ stdout, stderr }),
      );
    });
    expect(r.stderr).to.contain('CSV: appended a row to /dev/stdout');
    const { header, records } = parseEmissionsCsv(r.stdout);
    expect(header.join(','), r.stderr).to.equal(CSV_HEADER);
    expect(records).to.have.length(1);
  });

  it('writes the CSV into the file its stdout or stderr goes to, not under what follows it', async () => {
    expect(existsSync('/dev/stdout'), 'this test needs /dev/stdout').to.equal(true);
    // Opened anew with O_APPEND, the row went to the file's end while the offset of the shell's
    // descriptor stayed before it: the JSON or the summary written after it overwrote it.
    for (const [option, redirect] of [
      ['/dev/stdout', '>'],
      ['/dev/stderr', '2>'],
    ]) {
      const file = join(dir, `shared-${option.slice('/dev/'.length)}.txt`);
      const script = `"$0" "$1" run --json -o ${option} -- true ${redirect} "$2"`;
      await new Promise<void>((resolve) => {
        execFile('/bin/sh', ['-c', script, process.execPath, MAIN, file], { env: ENV }, () =>
          resolve(),
        );
      });
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      expect(lines[0], `${option}: ${text}`).to.equal(CSV_HEADER);
      const { records } = parseEmissionsCsv(lines.slice(0, 2).join('\n'));
      expect(records, option).to.have.length(1);
      const rest = lines.slice(2).join('\n');
      if (option === '/dev/stdout') expect(JSON.parse(rest).command, text).to.equal('run');
      else expect(rest).to.contain(`CSV: appended a row to ${option}`);
    }
  });

  it("writes the CSV after the command's own output in the file its stdout goes to", async () => {
    expect(existsSync('/dev/stdout'), 'this test needs /dev/stdout').to.equal(true);
    // The file was empty at the start, then held the command's text as its first line: the row
    // was refused as going under other columns, "CSV: NOT written", and the run exited 0.
    for (const [command, printed] of [
      ['echo hello', 'hello\n'],
      ['printf hello', 'hello\n'],
      ['echo hello >&2', ''],
    ]) {
      const option = command.endsWith('>&2') ? '/dev/stderr' : '/dev/stdout';
      const file = join(dir, 'command-output.txt');
      const script = `"$0" "$1" run -o ${option} -- sh -c '${command}' >"$2" 2>"$2.err"`;
      const stderr = await new Promise<string>((resolve) => {
        execFile('/bin/sh', ['-c', script, process.execPath, MAIN, file], { env: ENV }, () =>
          resolve(readFileSync(`${file}.err`, 'utf8')),
        );
      });
      const text = option === '/dev/stdout' ? readFileSync(file, 'utf8') : stderr;
      expect(stderr, command).to.contain(`CSV: appended a row to ${option}`);
      expect(text.startsWith(`${printed}${CSV_HEADER}\n`), `${command}: ${text}`).to.equal(
        option === '/dev/stdout',
      );
      if (option === '/dev/stderr') expect(text).to.contain(`hello\n${CSV_HEADER}\n`);
      const start = text.indexOf(CSV_HEADER);
      const { records } = parseEmissionsCsv(text.slice(start).split('\n').slice(0, 2).join('\n'));
      expect(records, command).to.have.length(1);
    }
  });

  it('appends run after run to the file its stdout goes to: >> log', async () => {
    expect(existsSync('/dev/stdout'), 'this test needs /dev/stdout').to.equal(true);
    // The first run left its command's text first in the file: the second was refused at the
    // start (exit 2, its command not run) as -o with other columns, though both wrote to stdout.
    const file = join(dir, 'appended-runs.txt');
    const codes: (number | null)[] = [];
    for (const word of ['first', 'second']) {
      const script = `"$0" "$1" run -o /dev/stdout -- echo ${word} >>"$2" 2>/dev/null`;
      codes.push(
        await new Promise<number | null>((resolve) => {
          execFile('/bin/sh', ['-c', script, process.execPath, MAIN, file], { env: ENV }, (err) =>
            resolve(err ? (err.code as number | null) : 0),
          );
        }),
      );
    }
    const text = readFileSync(file, 'utf8');
    expect(codes, text).to.deep.equal([0, 0]);
    const blocks = text.split(/^(?:first|second)\n/m).slice(1);
    expect(text.startsWith('first\n'), text).to.equal(true);
    expect(blocks, text).to.have.length(2);
    for (const block of blocks) expect(parseEmissionsCsv(block).records, text).to.have.length(1);
  });

  // A Node built --without-intl has no Intl: importing carbonscope threw `Intl is not defined`
  // (the operations' English order, at load), so `run`, `register` and start() all failed, and
  // `monitor` again at its first line (the zone's name). Deleting Intl reproduces just that.
  it('runs and monitors on a Node without Intl, the zone told by its offset alone', async () => {
    const noIntl = join(dir, 'no-intl.mjs');
    writeFileSync(noIntl, 'delete globalThis.Intl;\n');
    const env = { NODE_OPTIONS: `--import=${pathToFileURL(noIntl).href}`, TZ: 'Asia/Kathmandu' };
    const run = await cli(['run', '--', process.execPath, '-e', 'typeof Intl'], { env });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/exited with code 0/);
    const monitor = await cli(['monitor', '--interval', '250ms', '-d', '1s'], { env });
    expect(monitor.code, monitor.stderr).to.equal(0);
    expect(monitor.stderr).to.include('carbonscope: times are UTC+05:45\n');
  });

  it('prints its version for --version and -V, as Node tools do', async () => {
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(`${version}\n`);
    }
  });

  it('has --help for each command', async () => {
    for (const [args, text] of [
      [['--help'], 'Usage: carbonscope <command>'],
      [['run', '--help'], 'Usage: carbonscope run'],
      [['monitor', '--help'], 'Usage: carbonscope monitor'],
      [['impacts', '--help'], 'Usage: carbonscope impacts'],
      [['help'], 'Usage: carbonscope <command>'],
      [['help', 'run'], 'Usage: carbonscope run'],
      [['help', 'monitor'], 'Usage: carbonscope monitor'],
      [['help', 'impacts'], 'Usage: carbonscope impacts'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain(text);
    }
    const unknown = await cli(['help', 'rnu']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/^carbonscope: unknown command "rnu"/);
  });

  // `carbonscope --verison` and `-v` (for the version, as many tools take it) were each an
  // "unknown command", where the user typed an option.
  it('tells an unknown option before a command as an option, with the one meant', async () => {
    for (const [arg, line] of [
      ['--verison', "carbonscope: unknown option '--verison' (did you mean --version?)"],
      ['-v', "carbonscope: unknown option '-v' (did you mean -V?)"],
      ['--json', "carbonscope: unknown option '--json' (before a command: --version or --help)"],
    ] as const) {
      const r = await cli([arg]);
      expect(r.code).to.equal(2);
      expect(r.stderr.split('\n')[0]).to.equal(line);
    }
    // Before a command, one of its options: `-v run` asked for run's verbose, not the version.
    for (const [args, line] of [
      [
        ['-v', 'run', '--', 'true'],
        "unknown option '-v' (an option of run goes after it: carbonscope run -v ...)",
      ],
      [
        ['--json', 'monitor'],
        "unknown option '--json' (an option of monitor goes after it: carbonscope monitor --json ...)",
      ],
      [
        ['-dz', 'monitor'],
        "unknown option '-d' (an option of monitor goes after it: carbonscope monitor -d ...)",
      ],
      [
        ['--duration=5s', 'run'],
        "unknown option '--duration=5s' (before a command: --version or --help)",
      ],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr.split('\n')[0]).to.equal(`carbonscope: ${line}`);
    }
  });

  // As the OTel SDK reads them, so the run's series carry what the deployer set on every other
  // process (deployment.environment.name, say), and the SDK's own attributes; the run id stays
  // its instance (two runs at once are two series), whatever service.instance.id they set.
  it('describes its pushes with OTEL_RESOURCE_ATTRIBUTES and telemetry.sdk.*, as the SDK does', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['run', '--json', '--otlp', receiver.url, ...node('')], {
        env: {
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
          OTEL_RESOURCE_ATTRIBUTES:
            'deployment.environment.name=pre%20prod,service.name=ci-job,service.instance.id=pod-7',
        },
      });
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as Report;
      const attributes = receiver.pushes.at(-1)?.body.resourceMetrics[0]?.resource.attributes;
      expect(stringAttribute(attributes, 'deployment.environment.name')).to.equal('pre prod');
      expect(stringAttribute(attributes, 'service.name')).to.equal('ci-job');
      expect(stringAttribute(attributes, 'service.instance.id')).to.equal(report.runId);
      expect(stringAttribute(attributes, 'telemetry.sdk.language')).to.equal('nodejs');
      expect(stringAttribute(attributes, 'telemetry.sdk.name')).to.equal('opentelemetry');
      // Its scope as register's and the instrumentation's: `otel_scope_version` tells which
      // carbonscope made the series (it was empty for the CLI's pushes alone).
      const scopes = receiver.pushes.at(-1)?.body.resourceMetrics[0]?.scopeMetrics;
      expect(scopes?.map((s) => s.scope)).to.deep.equal([
        { name: 'carbonscope', version: VERSION },
      ]);
    } finally {
      await receiver.close();
    }
  });

  // The list may hold a token (a comma in it makes an item of its tail): the line names the
  // item by its place, never its text, and is said once for the whole run.
  it('warns once of a malformed OTEL_RESOURCE_ATTRIBUTES and pushes none of it', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['run', '--otlp', receiver.url, ...node('')], {
        env: {
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,s3cret-tail',
        },
      });
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stderr.split('\n').filter((l) => l.includes('OTEL_RESOURCE_ATTRIBUTES'));
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.include('item 2 has no "="');
      expect(r.stderr).not.to.include('s3cret');
      const attributes = receiver.pushes.at(-1)?.body.resourceMetrics[0]?.resource.attributes;
      expect(stringAttribute(attributes, 'service.name')).to.equal('carbonscope-cli');
      expect(stringAttribute(attributes, 'deployment.environment.name')).to.equal(undefined);
    } finally {
      await receiver.close();
    }
  });

  it('pushes the run metrics to an OTLP/HTTP collector', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['run', '--json', '--otlp', receiver.url, ...node(BUSY)], {
        env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      });
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(receiver.pushes.map((p) => p.contentType)).to.include('application/json');
      // The last push is the final flush: cumulative sums over the whole run.
      const last = receiver.pushes.at(-1)?.body;
      const [resource] = last?.resourceMetrics ?? [];
      expect(stringAttribute(resource?.resource.attributes, 'carbonscope.run_id')).to.equal(
        report.runId,
      );
      // Its own instance: two runs at once under one service.name must not be one series.
      expect(stringAttribute(resource?.resource.attributes, 'service.instance.id')).to.equal(
        report.runId,
      );
      const metrics = (resource?.scopeMetrics ?? []).flatMap((s) => s.metrics);
      const pushedProcessJoules = processSum(metrics, METRICS.processEnergy.name);
      expect(report.energy.joules).to.be.greaterThan(0);
      expect(pushedProcessJoules).to.be.closeTo(report.energy.joules, report.energy.joules * 1e-9);
      expect(processSum(metrics, METRICS.emissions.name, 'usage')).to.be.closeTo(
        report.emissions.grams,
        report.emissions.grams * 1e-9,
      );
      expect(report.embodied.grams).to.be.greaterThan(0);
      expect(processSum(metrics, METRICS.emissions.name, 'embodied')).to.be.closeTo(
        report.embodied.grams,
        report.embodied.grams * 1e-9,
      );
    } finally {
      await receiver.close();
    }
  });

  // Its end pushed once by the final flush, and once more by the provider's shutdown: the same
  // cumulative figures twice, 28 ms apart, each a request to the collector.
  it('a run shorter than the push interval pushes once, at its end', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['run', '--json', '--otlp', receiver.url, '--', 'true']);
      expect(r.code, r.stderr).to.equal(0);
      expect(receiver.pushes, r.stderr).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });

  it('names a malformed OTLP headers variable with --otlp, never its value', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['run', '--json', '--otlp', receiver.url, '--', 'true'], {
        env: { OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-api-key=sekrit-token;v2' },
      });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/OTEL_EXPORTER_OTLP_METRICS_HEADERS: item 1 \(x-api-key\)/);
      expect(r.stderr).not.to.include('sekrit');
    } finally {
      await receiver.close();
    }
  });

  it('pushes no process energy or emissions for a command it could not measure, and says so', async () => {
    const receiver = await otlpReceiver();
    try {
      // About 1 ms of CPU over 2 s: periodic pushes happen while it runs, the last at its end.
      const r = await cli(['run', '--json', '--otlp', receiver.url, '--', 'sleep', '2'], {
        env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      });
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.energy.known).to.equal(false);
      expect(receiver.pushes.length).to.be.greaterThan(1);
      for (const push of receiver.pushes) {
        const metrics = metricsOf(push.body);
        // A pushed 0 J would read as a measured zero in any backend: no series at all.
        expect(pointsOf(metrics, METRICS.processEnergy.name), 'process energy').to.deep.equal([]);
        expect(pointsOf(metrics, METRICS.processPower.name), 'process power').to.deep.equal([]);
        const ofCommand = pointsOf(metrics, METRICS.emissions.name).filter(
          (p) => stringAttribute(p.attributes, 'carbonscope.scope') === 'process',
        );
        expect(ofCommand, 'process emissions').to.deep.equal([]);
      }
      // The host's figures are measured all the same, and go.
      const last = metricsOf(receiver.pushes.at(-1)?.body);
      expect(sumOf(last, METRICS.hostEnergy.name)).to.be.greaterThan(0);
      expect(r.stderr).to.match(
        /note: the command's energy and emissions are not pushed to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics \(not measured\), only the host's\n/,
      );
    } finally {
      await receiver.close();
    }
  });

  it('monitor says while it runs, once, that its pushes fail, not only at the end', async () => {
    const refused = createTcpServer();
    const port = await listenOnLoopback(refused);
    await new Promise((resolve) => refused.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    const r = await cli(['monitor', '-d', '4s', '--interval', '500ms', '--otlp', url]);
    expect(r.code, r.stderr).to.equal(1);
    const lines = r.stderr.split('\n');
    const warned = lines.filter((l) =>
      l.startsWith('carbonscope: warning: could not push metrics'),
    );
    expect(warned, r.stderr).to.have.length(1);
    expect(warned[0]).to.contain(`to ${url}/v1/metrics: connect ECONNREFUSED`);
    // Before the summary, which comes at the end.
    expect(lines.indexOf(warned[0] ?? '')).to.be.below(
      lines.findIndex((l) => l.startsWith('carbonscope monitor: whole machine')),
    );
  });

  /**
   * The lines from the summary on of `monitor --otlp` whose collector takes every push until the
   * summary is printed, then refuses: only the last push, at the end, fails.
   */
  async function lastPushRefused(env: Record<string, string> = {}) {
    let refusing = false;
    const accepted: string[] = [];
    const collector = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (refusing) res.writeHead(401).end();
        else {
          accepted.push(req.url ?? '');
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        }
      });
    });
    const port = await listenOnLoopback(collector);
    try {
      const r = await cli(
        ['monitor', '-d', '2s', '--interval', '500ms', '--otlp', `http://127.0.0.1:${port}`],
        {
          env,
          onStderr: (text) => {
            refusing ||= text.includes('carbonscope monitor: whole machine');
          },
        },
      );
      expect(r.code, r.stderr).to.equal(1);
      expect(accepted.length, r.stderr).to.be.above(0);
      const end = r.stderr.slice(r.stderr.indexOf('carbonscope monitor: whole machine'));
      return { end, url: `http://127.0.0.1:${port}/v1/metrics` };
    } finally {
      collector.closeAllConnections();
      collector.close();
    }
  }

  it('monitor says what its last push dropped where only that one fails, not that a next one tries', async () => {
    const { end, url } = await lastPushRefused();
    expect(end).to.not.contain('tries again');
    const told = end.split('\n').filter((l) => l.includes('could not push'));
    expect(told).to.deep.equal([
      `carbonscope: error: could not push metrics to ${url}: Unauthorized (HTTP 401); dropped what was counted since the last push that got through`,
    ]);
  });

  it('monitor under delta temporality says its last push dropped what was counted since the last that got through', async () => {
    const { end, url } = await lastPushRefused({
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    });
    const told = end.split('\n').filter((l) => l.includes('could not push'));
    expect(told).to.deep.equal([
      `carbonscope: error: could not push metrics to ${url}: Unauthorized (HTTP 401); dropped what was counted since the last push that got through`,
    ]);
  });

  /**
   * `run --otlp` every 500 ms under delta temporality, of a 3.6 s command, against a collector
   * that refuses (401, or `status`) the pushes `refuses` names (by their number, from 1), else
   * takes them.
   */
  async function runUnderDelta(
    refuses: (push: number, ended: boolean) => boolean,
    status = 401,
  ): Promise<{ r: Result; pushes: number; url: string }> {
    let pushes = 0;
    let ended = false;
    const collector = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        pushes += 1;
        if (refuses(pushes, ended)) res.writeHead(status).end();
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    const port = await listenOnLoopback(collector);
    try {
      const r = await cli(
        [
          'run',
          '--interval',
          '500ms',
          '--otlp',
          `http://127.0.0.1:${port}`,
          ...node('setTimeout(() => {}, 3600)'),
        ],
        {
          env: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' },
          onStderr: (text) => {
            ended ||= text.includes('exited with code');
          },
        },
      );
      return { r, pushes, url: `http://127.0.0.1:${port}/v1/metrics` };
    } finally {
      collector.closeAllConnections();
      collector.close();
    }
  }

  it('run under delta temporality carries a refused push to the next: its last line says since the last that got through', async () => {
    // The second push is refused, then every push once the summary is printed: the second's
    // points went with the third, delivered, so the last push drops only what came after it.
    const { r, pushes, url } = await runUnderDelta((push, ended) => ended || push === 2);
    expect(pushes, r.stderr).to.be.at.least(3);
    const told = r.stderr.split('\n').filter((l) => l.includes('could not push'));
    expect(told).to.deep.equal([
      `carbonscope: error: could not push metrics to ${url}: Unauthorized (HTTP 401); dropped what was counted since the last push that got through`,
    ]);
  });

  it('run under delta temporality sends a refused push again with the next: all counted arrives, once', async () => {
    // Stop 80 left --otlp out: the refused push's figures were lost, and a line said so.
    let count = 0;
    const receiver = await otlpReceiver({ answer: () => (++count === 2 ? 401 : 200) });
    try {
      // Pushes come every second at the least: BUSY alone (1.5 s of CPU) ended before the third
      // on an idle machine, the refused second then the last, and nothing came after to carry it.
      const r = await cli(
        [
          'run',
          '--json',
          '--interval',
          '500ms',
          '--otlp',
          receiver.url,
          ...node(`${BUSY}; setTimeout(() => {}, 2500)`),
        ],
        {
          env: {
            OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
            OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
          },
        },
      );
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.not.match(/could not push|but not what/);
      const report = JSON.parse(r.stdout) as Report;
      expect(receiver.received.length, r.stderr).to.be.at.least(3);
      const refused = metricsOf(receiver.received[1]?.body);
      expect(refused.length, 'the refused push carried metrics').to.be.above(0);
      const points = receiver.pushes.flatMap((push) =>
        pointsOf(metricsOf(push.body), METRICS.processEnergy.name),
      );
      const joules = points.reduce((sum, p) => sum + (p.asDouble ?? 0), 0);
      expect(report.energy.joules).to.be.greaterThan(0);
      expect(joules).to.be.closeTo(report.energy.joules, report.energy.joules * 1e-9);
      // None twice: each interval of each series arrived in one push.
      const intervals = points.map(
        (p) => `${JSON.stringify(p.attributes)} ${p.startTimeUnixNano} ${p.timeUnixNano}`,
      );
      expect(new Set(intervals).size).to.equal(intervals.length);
    } finally {
      await receiver.close();
    }
  });

  it('run under delta temporality says so when an earlier push refused as malformed is lost and the last got through', async () => {
    // Only the second push is refused, as malformed (400): not sent again, as it would be refused again.
    const { r, pushes, url } = await runUnderDelta((push) => push === 2, 400);
    expect(r.code, r.stderr).to.equal(0);
    expect(pushes, r.stderr).to.be.at.least(3);
    // One line for the push: `could not deliver 1 push` was followed by `OTLP: pushed the
    // metrics`, two lines for one end, the second read as all delivered.
    const told = r.stderr.split('\n').filter((l) => /push|deliver/.test(l));
    expect(told, r.stderr).to.deep.equal([
      `carbonscope: warning: pushed the metrics to ${url}, but not what 1 earlier push that failed carried: it is lost (delta temporality)`,
    ]);
  });

  /**
   * `args`, the URL, then `after` (`run`'s command) pushing to a collector that rejects 2 points
   * of every push (an OTLP partial success): its result, the lines that say `rejected`, and the
   * lines they should be, the end's counting every push.
   */
  async function partlyRejected(
    args: string[],
    after: string[] = [],
    onStderr?: (text: string) => void,
  ) {
    let pushes = 0;
    let points = 0;
    const collector = createHttpServer((req, res) => {
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => {
        pushes += 1;
        points += dataPointCount([
          JSON.parse(Buffer.concat(body).toString('utf8')) as OtlpMetricsRequest,
        ]);
        const partialSuccess = { rejectedDataPoints: '2', errorMessage: 'unit J not allowed' };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ partialSuccess }));
      });
    });
    const port = await listenOnLoopback(collector);
    try {
      const url = `http://127.0.0.1:${port}/v1/metrics`;
      const r = await cli([...args, url, ...after], {
        env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
        ...(onStderr ? { onStderr } : {}),
      });
      expect(r.code, r.stderr).to.equal(0);
      expect(pushes, r.stderr).to.be.at.least(3);
      const lines = r.stderr.split('\n');
      const expected = [
        `carbonscope: warning: the collector at ${url} took a push but rejected 2 of its data points: "unit J not allowed" (told once for each reason)`,
        // `6 data points` alone read as 6 series, where a cumulative push sends each again.
        `carbonscope: warning: pushed the metrics to ${url}, but not ${2 * pushes} of the ${points} data points of ${pushes} pushes that got through, which the collector rejected (a partial success, as told above)`,
      ];
      return { r, lines, told: lines.filter((l) => l.includes('rejected')), expected };
    } finally {
      collector.closeAllConnections();
      collector.close();
    }
  }

  it("run tells a collector's partial success once, at its end after the summary, not while the command runs", async () => {
    // Stop 81 had run's push lines go nowhere: the collector rejecting points was never told.
    let duringCommand = '';
    let ended = false;
    const { r, lines, told, expected } = await partlyRejected(
      ['run', '--interval', '500ms', '--otlp'],
      node('setTimeout(() => {}, 2600)'),
      (text) => {
        ended ||= text.includes('exited with code');
        if (!ended) duringCommand = text;
      },
    );
    expect(duringCommand).to.not.include('rejected');
    // The end line counts what every push's partial success rejected: stop 81 ended with
    // `OTLP: pushed the metrics`, as if the collector took every point.
    expect(told, r.stderr).to.deep.equal(expected);
    expect(r.stderr).to.not.include('OTLP: pushed');
    const summary = lines.findIndex((l) => l.includes('exited with code'));
    expect(summary, r.stderr).to.be.at.least(0);
    expect(lines.indexOf(told[0] ?? '')).to.be.above(summary);
  });

  it("monitor tells a collector's partial success as it comes, and its total at its end", async () => {
    // Before stop 82 monitor ended `OTLP: pushed the metrics`: a reason is told once, and the
    // pushes rejected after it were counted nowhere.
    const args = ['monitor', '-d', '2s', '--interval', '500ms', '--otlp'];
    const { r, lines, told, expected } = await partlyRejected(args);
    expect(told, r.stderr).to.deep.equal(expected);
    expect(r.stderr).to.not.include('OTLP: pushed');
    // The reason while it runs, before the summary; the total after it.
    const summary = lines.findIndex((l) => l.startsWith('carbonscope monitor: whole machine'));
    expect(lines.indexOf(told[0] ?? ''), r.stderr).to.be.within(0, summary);
    expect(lines.indexOf(told[1] ?? '')).to.be.above(summary);
  });

  it('monitor names the --otlp URL one way in its warning and its last line: as pushed, masked', async () => {
    const refused = createTcpServer();
    const port = await listenOnLoopback(refused);
    await new Promise((resolve) => refused.close(resolve));
    const url = `http://bob:s3cretPW@127.0.0.1:${port}?api_key=SECRET123`;
    // Long enough for a push to fail while it runs (a push under way at the end is not told:
    // the last push, behind it, is).
    const r = await cli(['monitor', '-d', '4s', '--interval', '500ms', '--otlp', url]);
    expect(r.code, r.stderr).to.equal(1);
    const named = [...r.stderr.matchAll(/could not push metrics to (\S+): /g)].map((m) => m[1]);
    expect(named, r.stderr).to.have.length(2);
    expect(named).to.deep.equal([
      `http://[redacted]@127.0.0.1:${port}/v1/metrics?api_key=[redacted]`,
      `http://[redacted]@127.0.0.1:${port}/v1/metrics?api_key=[redacted]`,
    ]);
    expect(r.stderr).to.not.match(/s3cretPW|SECRET123/);
  });

  it('monitor pushes the machine, and no process series (there is no command to measure)', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await cli(['monitor', '-d', '1s', '--interval', '500ms', '--otlp', receiver.url], {
        env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      });
      expect(r.code, r.stderr).to.equal(0);
      const last = metricsOf(receiver.pushes.at(-1)?.body);
      expect(sumOf(last, METRICS.hostEnergy.name)).to.be.greaterThan(0);
      expect(pointsOf(last, METRICS.processEnergy.name)).to.deep.equal([]);
      const ofProcess = pointsOf(last, METRICS.emissions.name).filter(
        (p) => stringAttribute(p.attributes, 'carbonscope.scope') === 'process',
      );
      expect(ofProcess).to.deep.equal([]);
    } finally {
      await receiver.close();
    }
  });

  it('sends the user and password of an --otlp URL as basic auth, and never prints them', async () => {
    const receiver = await otlpReceiver();
    // A password with characters a URL must escape: the header carries it decoded, as curl does.
    const url = receiver.url.replace('//', '//bob:s3cr%40t%3APW@');
    const basic = `Basic ${Buffer.from('bob:s3cr@t:PW').toString('base64')}`;
    try {
      const run = await cli(['run', '--otlp', url, ...node('1')], {
        env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme' },
      });
      expect(run.code, run.stderr).to.equal(0);
      const monitor = await cli(['monitor', '-d', '1s', '--interval', '500ms', '--otlp', url], {
        env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      });
      expect(monitor.code, monitor.stderr).to.equal(0);
      expect(receiver.failures).to.deep.equal([]);
      expect(receiver.pushes.length).to.be.greaterThan(1);
      for (const push of receiver.pushes) expect(push.headers.authorization).to.equal(basic);
      // Headers from the environment still go with it.
      expect(receiver.pushes[0].headers['x-tenant']).to.equal('acme');
      for (const text of [run.stdout, run.stderr, monitor.stdout, monitor.stderr]) {
        expect(text).to.not.match(/s3cr|%40t/);
      }
      // An Authorization header set in the environment is taken over the URL's.
      const pushed = receiver.pushes.length;
      const bearer = await cli(['run', '--otlp', url, '--', 'true'], {
        env: { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer t0ken' },
      });
      expect(bearer.code, bearer.stderr).to.equal(0);
      const last = receiver.pushes.slice(pushed);
      expect(last.map((p) => p.headers.authorization)).to.include('Bearer t0ken');
      expect(last.map((p) => p.headers.authorization)).to.not.include(basic);
    } finally {
      await receiver.close();
    }
  });

  // run prints no header: `--interval 500` sampled every 8 min 20 s, and nothing said so.
  it('run says once how a bare --interval of 100 or more is read, before its summary', async () => {
    const r = await cli(['run', '--interval', '100', '--', 'true']);
    expect(r.code, r.stderr).to.equal(0);
    const said = r.stderr.split('\n').filter((line) => line.includes('--interval 100'));
    expect(said, r.stderr).to.deep.equal([
      'carbonscope: warning: --interval 100 is read as 1 min 40 s: a bare number is seconds (100ms for milliseconds)',
    ]);
    expect(r.stderr.indexOf(said[0])).to.be.below(r.stderr.indexOf('exited with code 0'));
  });

  // The CSV's row is told (`CSV: appended a row to …`), a push that got through was not.
  it('says where a push that got through went, in one line, masked; nothing where it failed', async () => {
    const receiver = await otlpReceiver();
    const url = receiver.url.replace('//', '//bob:s3cretPW@');
    const shown = `${receiver.url.replace('//', '//[redacted]@')}/v1/metrics`;
    try {
      for (const args of [
        ['run', '--otlp', url, '--', 'true'],
        ['monitor', '-d', '1s', '--interval', '500ms', '--otlp', url],
      ]) {
        const r = await cli(args);
        expect(r.code, r.stderr).to.equal(0);
        const lines = r.stderr.split('\n').filter((line) => line.includes('OTLP:'));
        expect(lines, r.stderr).to.deep.equal([`  OTLP: pushed the metrics to ${shown}`]);
        expect(r.stderr).to.not.contain('s3cret');
      }
    } finally {
      await receiver.close();
    }
    await withSilentCollector(async (port) => {
      const r = await cli(['run', '--otlp', `http://127.0.0.1:${port}`, '--', 'true']);
      expect(r.stderr).to.include('could not push metrics').and.not.include('OTLP: pushed');
    });
  });

  // A command that outlasts the first periodic push leaves that push in flight at the end; cut at
  // its own timeout first, it was told in the exporter's words (`Request timed out`). A short one
  // on a loaded machine did the same: one outcome, said one way, whichever timer fires. Pushing
  // every 4 s, the periodic push (at 4 s) is cut at 7 s, 2 s before the end's 3 s are over, and
  // the next goes out at 12 s, gated: the lines are the same at every run, and compared whole,
  // so a push told twice (in flight, then unanswered) is seen.
  for (const [what, script] of [
    ['a short command', '1'],
    ['a command that outlasts a periodic push', 'setTimeout(() => {}, 6000)'],
  ] as const) {
    it(`gives up on a collector that never answers within a few seconds, and says so (${what})`, async () => {
      await withSilentCollector(async (port) => {
        const url = `http://127.0.0.1:${port}`;
        const r = await cli(['run', '--interval', '4s', '--otlp', url, ...node(script)]);
        expect(r.code, r.stderr).to.equal(0);
        // Its own deadline's word, not the exporter's timeout (10 s with its retries), once.
        const told = r.stderr
          .split('\n')
          .filter((line) => /^carbonscope: (warning|error):/.test(line));
        expect(told, r.stderr).to.deep.equal([
          `carbonscope: error: could not push metrics to ${url}/v1/metrics: no answer within ${PUSH_TIMEOUT_MS / 1000} s; this run's metrics were not delivered`,
        ]);
      });
    });
  }

  it('never prints the password of an --otlp URL when the push fails', async () => {
    await withSilentCollector(async (port) => {
      const r = await cli(['run', '--otlp', `http://bob:s3cretPW@127.0.0.1:${port}`, '--', 'true']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(
        /could not push metrics to http:\/\/\S+@127\.0\.0\.1:\d+\/v1\/metrics: /,
      );
      expect(r.stderr).to.not.contain('s3cretPW');
    });
  });

  it("never prints an --otlp URL's secret query or fragment values, in -v, --json or the failure", async () => {
    const refused = createTcpServer();
    const port = await listenOnLoopback(refused);
    await new Promise((resolve) => refused.close(resolve));
    const url = `http://127.0.0.1:${port}/?api_key=SECRET1&tenant=acme-7#access_token=SECRET2`;
    const r = await cli(['run', '-v', '--json', '--otlp', url, ...node('1')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain(
      `could not push metrics to http://127.0.0.1:${port}/v1/metrics?api_key=[redacted]&tenant=acme-7#access_token=[redacted]: `,
    );
    expect(`${r.stdout}${r.stderr}`).to.not.match(/SECRET/);
  });

  it('never prints a secret it knows, on whatever line an upstream echoes it', async () => {
    const token = 'otlp-TOKEN-4f9a2c';
    const emKey = 'em-KEY-0123456789';
    // Both refuse, naming the credential they were sent: the collector in its status line,
    // Electricity Maps in its body.
    const echoing = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.startsWith('/v1/metrics')) {
          res.writeHead(401, `refused ${req.headers.authorization ?? 'no token'}`).end();
        } else {
          res
            .writeHead(401)
            .end(`{"message":"token ${String(req.headers['auth-token'])} invalid"}`);
        }
      });
    });
    const port = await listenOnLoopback(echoing);
    try {
      const r = await cli(
        ['run', '-v', '--otlp', `http://al:PWSECRET9@127.0.0.1:${port}`, ...node('1')],
        {
          env: {
            OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${token}`,
            CARBON_INTENSITY: '',
            ELECTRICITY_MAPS_API_KEY: emKey,
            ELECTRICITY_MAPS_BASE_URL: `http://127.0.0.1:${port}/v3`,
          },
        },
      );
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(
        /could not push metrics to http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/v1\/metrics: refused \[redacted\] \(HTTP 401\)/,
      );
      expect(r.stderr).to.match(/grid: .*token \[redacted\] invalid/);
      for (const secret of [token, emKey, 'PWSECRET9']) expect(r.stderr).not.to.contain(secret);
    } finally {
      echoing.close();
    }
  });

  it('masks the secrets it knows in what it writes outside its logger too', async () => {
    const key = 'em-KEY-0123456789';
    const env = { ELECTRICITY_MAPS_API_KEY: key };
    const otlp = 'http://al:PWSECRET9@127.0.0.1:1';
    // A CSV path and a command line that quote them: the CSV error, the summary, the JSON.
    // The folder is there at the start (else nothing runs), and gone at the end.
    const folder = join(dir, `gone-${key}`);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'PWSECRET9.csv');
    const remove = ['sh', '-c', 'rm -r "$0"', folder, key, otlp];
    const ran = await cli(['run', '--json', '-o', file, '--', ...remove], { env });
    expect(ran.code, ran.stderr).to.equal(0);
    expect(ran.stderr).to.contain('CSV: NOT written');
    expect(ran.stderr).to.contain(
      `\`sh -c 'rm -r "$0"' ${join(dir, 'gone-[redacted]')} [redacted]`,
    );
    expect((JSON.parse(ran.stdout) as Report).argv?.[4]).to.equal('[redacted]');
    // Refused at the start, for a folder that is not there.
    const refused = await cli(['run', '-o', file, '--', 'true', otlp], { env });
    expect(refused.code, refused.stderr).to.equal(2);
    expect(refused.stderr).to.contain('cannot write');
    // A command that cannot start, named by a path that holds one.
    const missing = await cli(['run', '--otlp', otlp, '--', `./PWSECRET9-${key}`], { env });
    expect(missing.code).to.equal(127);
    expect(missing.stderr).to.contain('command not found: ./[redacted]-[redacted]');
    for (const text of [ran.stdout, ran.stderr, missing.stdout, missing.stderr, refused.stderr]) {
      for (const secret of [key, 'PWSECRET9']) expect(text).to.not.contain(secret);
    }
  });

  // `curl -H 'Authorization: Bearer …'` and `--token=…` went out as written in the summary and
  // --json's argv: only a URL's credentials were masked.
  it("masks the command's own secret-named options and headers in the summary and --json", async () => {
    const args = ['--token=TOKSECRET-1', '-H', 'Authorization: Bearer HDRSECRET-2'];
    const r = await cli(['run', '--json', '--', 'true', ...args]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain("--token=[redacted] -H 'Authorization: [redacted]'");
    expect((JSON.parse(r.stdout) as Report).argv?.slice(-3)).to.deep.equal([
      '--token=[redacted]',
      '-H',
      'Authorization: [redacted]',
    ]);
    expect(`${r.stdout}${r.stderr}`).to.not.match(/SECRET/);
  });

  it('says so when the collector refuses the last push; run keeps the exit, monitor exits 1', async () => {
    const refusing = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401).end());
    });
    const port = await listenOnLoopback(refusing);
    try {
      const r = await cli([
        'run',
        '--otlp',
        `http://bob:s3cretPW@127.0.0.1:${port}`,
        ...node('process.exit(3)'),
      ]);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.match(
        /could not push metrics to http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/v1\/metrics: Unauthorized \(HTTP 401\);/,
      );
      expect(r.stderr).to.not.contain('s3cretPW');
    } finally {
      refusing.close();
    }
    // Nothing listens there any more: the connection is refused.
    const m = await cli([
      'monitor',
      '-d',
      '1s',
      '--interval',
      '500ms',
      '--otlp',
      `http://127.0.0.1:${port}`,
    ]);
    expect(m.code, m.stderr).to.equal(1);
    expect(m.stderr).to.match(
      /could not push metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: \S/,
    );
  });

  it('neutralises a spreadsheet formula in --project-name', async () => {
    const file = join(dir, 'formula.csv');
    for (const name of ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)']) {
      const r = await cli(['run', '-o', file, `--project-name=${name}`, ...node('1')]);
      expect(r.code, r.stderr).to.equal(0);
    }
    const { records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(records.map((row) => row.project_name)).to.deep.equal([
      `'=HYPERLINK("http://evil.example","x")`,
      "'+1+1",
      "'-2+3",
      "'@SUM(A1)",
    ]);
  });
});

describe('carbonscope impacts (EcoLogits method, built CLI)', function () {
  this.timeout(30_000);
  const catalog = loadCatalog();
  const dir = tempDirUntilExit('carbonscope-impacts-');

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--json gives the figures of the Python package for a conformance vector', async () => {
    const vectors = JSON.parse(
      readFileSync(join(projectRoot, 'test', 'fixtures', 'llm', 'ecologits-vectors.json'), 'utf8'),
    ) as {
      vectors: Array<{
        provider: string;
        model: string;
        outputTokens: number;
        latency: number | null;
        zone: string | null;
        expected: { gwp: { min: number; max: number }; warnings: string[] };
      }>;
    };
    const v = vectors.vectors.find(
      (x) => x.provider === 'anthropic' && x.model === 'claude-sonnet-4-5' && x.latency === 1.5,
    );
    if (!v) return expect.fail('no vector for anthropic/claude-sonnet-4-5 at 1.5 s');
    const args = ['impacts', '--provider', 'anthropic', '--model', 'claude-sonnet-4-5'];
    const r = await cli([
      ...args,
      '--output-tokens',
      String(v.outputTokens),
      '--latency',
      '1.5',
      '--json',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & {
      gwp: { value: { min: number; max: number }; unit: string };
      warnings: Array<{ code: string; message: string }>;
      errors: null;
    };
    expect(out.gwp.unit).to.equal('kgCO2eq');
    expect(out.gwp.value.min).to.be.closeTo(v.expected.gwp.min, v.expected.gwp.min * 1e-9);
    expect(out.gwp.value.max).to.be.closeTo(v.expected.gwp.max, v.expected.gwp.max * 1e-9);
    expect(out.warnings.map((w) => w.code)).to.deep.equal(v.expected.warnings);
    expect(out.errors).to.equal(null);
    // The whole object is the library's answer, EcoLogits' keys in EcoLogits' order.
    const library = llmImpacts(catalog, {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      outputTokens: v.outputTokens,
      requestLatencySeconds: 1.5,
    });
    expect(out).to.deep.equal(JSON.parse(JSON.stringify(library)));
    expect(Object.keys(out)).to.deep.equal([
      'energy',
      'gwp',
      'adpe',
      'pe',
      'wcf',
      'usage',
      'embodied',
      'zone',
      'warnings',
      'errors',
    ]);
  });

  it('prints a human report by default; provider/model needs no --provider', async () => {
    const r = await cli([
      'impacts',
      '--model',
      'mistralai/mistral-large-latest',
      '-n',
      '300',
      '-z',
      'FRA',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(
      /^mistralai\/mistral-large-latest: 300 output tokens, no measured latency \(infinite\), electricity mix FRA/,
    );
    expect(r.stdout).to.match(/Energy, usage only +[\d.e-]+ kWh\n/);
    expect(r.stdout).to.match(/ {2}embodied +[\d.e-]+ kgCO2eq\n/);
    expect(r.stdout).to.match(/Water \(WCF\), usage only +[\d.e-]+ L\n/);
  });

  it('keeps each error one line, control characters of the arguments escaped', async () => {
    const esc = '\u001b[2J';
    const cases: Array<[string[], number, string]> = [
      [['-m', `openai/x${esc}\nnext`, '-n', '10'], 1, 'model `x\\u001b[2J\\nnext`'],
      [['-m', 'gpt-4o', '-n', '10', '-z', `F${esc}RA`], 1, '`F\\u001b[2JRA`'],
      [['-m', 'gpt-4o', '-n', `1\n2${esc}`], 2, '(got "1\\n2\\u001b[2J")'],
    ];
    for (const [args, code, shown] of cases) {
      const r = await cli(['impacts', ...args]);
      expect(r.code, r.stderr).to.equal(code);
      const [first] = r.stderr.split('\n');
      expect(first, args.join(' ')).to.contain(shown);
      expect(r.stderr).to.not.contain('\u001b');
      if (code === 1) expect(r.stderr.trimEnd().split('\n'), r.stderr).to.have.length(1);
    }
  });

  // The stderr line escaped it, the JSON on stdout did not: a U+202E in a model's name drew the
  // rest of the message reversed in the terminal.
  it('writes a bidi control in --json as its JSON escape, the value unchanged', async () => {
    const r = await cli(['impacts', '-m', '\u202egpt', '-n', '10', '--json']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.not.include('\u202e');
    expect(r.stdout).to.include('\\u202egpt');
    const out = JSON.parse(r.stdout) as { errors: Array<{ message: string }> };
    expect(out.errors[0].message).to.include('`\u202egpt`');
  });

  it("escapes the control characters an LLM_MODELS_FILE's error quotes of it", async () => {
    const file = join(dir, 'models.json');
    writeFileSync(file, 'x\u001b[2J');
    const r = await cli(['impacts', '-m', 'gpt-4o', '-n', '10'], {
      env: { LLM_MODELS_FILE: file },
    });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/^carbonscope: invalid setting LLM_MODELS_FILE: .*x\\u001b\[2J/);
    expect(r.stderr).to.not.contain('\u001b');
  });

  it('exits 1 with EcoLogits errors for an unknown model, provider or zone', async () => {
    const cases: Array<[string[], string, string]> = [
      [
        ['--provider', 'openai', '--model', 'gpt-9000'],
        'model-not-registered',
        'Could not find model `gpt-9000` for openai provider.',
      ],
      [
        ['--provider', 'acme', '--model', 'gpt-4o'],
        'model-not-registered',
        'Could not find model `gpt-4o` for acme provider.',
      ],
      [
        ['--model', 'gpt-4o', '--zone', 'XYZ'],
        'zone-not-registered',
        'Could not find electricity mix for `XYZ` zone.',
      ],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(['impacts', ...args, '--output-tokens', '10', '--json']);
      expect(r.code, args.join(' ')).to.equal(1);
      const out = JSON.parse(r.stdout) as { energy: unknown; errors: unknown };
      expect(out.energy).to.equal(null);
      expect(out.errors).to.deep.equal([{ code, message }]);
      expect(r.stderr).to.contain(`${code}: ${message}`);
    }
    // The zone as `run --zone FR` takes it: EcoLogits' error, and the alpha-3 meant. It said
    // only what zones look like, where `fra` got "Did you mean FRA?".
    const alpha2 = await cli(['impacts', '--model', 'gpt-4o', '-n', '10', '--zone', 'FR']);
    expect(alpha2.code).to.equal(1);
    expect(alpha2.stderr.trimEnd()).to.equal(
      'carbonscope impacts: zone-not-registered: Could not find electricity mix for `FR` zone. Did you mean FRA?',
    );
  });

  it('reads LLM_MODELS_FILE: your own models, and a clear exit 2 for a bad file', async () => {
    const fixture = join(projectRoot, 'test', 'fixtures', 'llm', 'extra-models.json');
    const own = await cli(['impacts', '-m', 'acme-chat-1', '-n', '10'], {
      env: { LLM_MODELS_FILE: fixture },
    });
    expect(own.code, own.stderr).to.equal(0);
    expect(own.stdout).to.contain('acme/acme-chat-1: 10 output tokens');
    const twin = await cli(['impacts', '-m', 'shared-7b', '-n', '10'], {
      env: { LLM_MODELS_FILE: fixture },
    });
    expect(twin.code).to.equal(2);
    expect(twin.stderr).to.contain('name one of acme/shared-7b, mistralai/shared-7b');
    const bad = await cli(['impacts', '-m', 'gpt-4o', '-n', '10'], {
      env: { LLM_MODELS_FILE: join(projectRoot, 'no-such-models.json') },
    });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('LLM_MODELS_FILE').and.contain('file not found');
  });

  it('exits 2 with the usage for a bad or missing option', async () => {
    for (const args of [
      ['impacts', '--model', 'gpt-4o'],
      ['impacts', '--output-tokens', '10'],
      ['impacts', '-m', 'gpt-4o', '-n', 'ten'],
      ['impacts', '-m', 'gpt-4o', '-n', '1.5'],
      ['impacts', '-m', 'gpt-4o', '-n', '10', '--latency', 'soon'],
      ['impacts', '-m', 'gpt-4o', '-n', '10', 'extra'],
      ['impacts', '-m', 'openai/', '-n', '10'],
      ['impacts', '-m', '/gpt-4o', '-n', '10'],
      ['impacts', '-m', 'openai//gpt-4o', '-n', '10'],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/Usage: carbonscope impacts/);
    }
  });
});
