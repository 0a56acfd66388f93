import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../../src/paths.js';
import { cpuProfiling } from '../../../src/runtime/profiler-warning.js';
import { childEnv } from '../../helpers/child-env.js';
import { underRegister } from '../../helpers/under-register.js';

const WARNING = '--cpu-prof is on';

/** A process's first sample under register, as an app's start: its stderr. */
const SCRIPT = `const { start } = await import('carbonscope');
const cs = await start();
await cs.firstSample();
process.exit(0);`;

/** stderr of SCRIPT in a real Node started with `flags`, preloaded with register, `env` added. */
async function stderrOf(
  flags: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  return (await underRegister(SCRIPT, env, libraryRoot, 30_000, flags)).stderr;
}

function times(text: string, part: string): number {
  return text.split(part).length - 1;
}

// Under --cpu-prof, V8's SIGPROF every 1 ms ends libuv's waits, which then read as busy: a
// 500 ms timer read 463-470 ms busy (0-1 ms without), and the operations read up to twice their
// CPU's part of the energy, in `wall` as in the others (test/bench/signal-waits.mjs: 0.47 for
// 0.31-0.32 in `wall`, 0.43-0.49 in `calibrated`). The README said so; nothing at run time did.
describe('runtime: the warning at start under a CPU profiler (--cpu-prof)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-cpu-prof-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('warns once in every method (calibrated, exact, wall), naming the README section; not without the profiler, nor under --prof', async function () {
    this.timeout(60_000);
    const profiled = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const [calibrated, exact, wall, plain, prof] = await Promise.all([
      stderrOf(profiled),
      stderrOf(profiled, { ENERGY_OPERATION_ATTRIBUTION: 'exact' }),
      stderrOf(profiled, { ENERGY_OPERATION_ATTRIBUTION: 'wall' }),
      stderrOf([]),
      // --prof's SIGPROF is blocked in libuv's poll: no lost waits (0-1 ms of 500).
      stderrOf(['--prof', `--logfile=${join(dir, 'v8.log')}`, '--no-logfile-per-isolate']),
    ]);
    for (const [mode, stderr] of [
      ['calibrated', calibrated],
      ['exact', exact],
      ['wall', wall],
    ] as const) {
      expect(times(stderr, WARNING), stderr).to.equal(1);
      expect(stderr).to.contain(`ENERGY_OPERATION_ATTRIBUTION=${mode}`);
      expect(stderr).to.contain('(README: "Waits that a signal ends")');
    }
    for (const stderr of [plain, prof]) expect(times(stderr, WARNING), stderr).to.equal(0);
    // The profiler did run: each --cpu-prof child wrote its profile.
    expect(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))).to.have.length(3);
  });

  it('warns where NODE_OPTIONS starts the profiler (Node 22 and later allow it there)', async function () {
    if (!process.allowedNodeEnvironmentFlags.has('--cpu-prof')) this.skip();
    this.timeout(30_000);
    const stderr = await stderrOf([], { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
    expect(times(stderr, WARNING), stderr).to.equal(1);
  });

  it("warns once per process where two instances are made (register's and one of its own)", async function () {
    this.timeout(30_000);
    const script = `const { start, Carbonscope } = await import('carbonscope');
const cs = await start();
const own = await Carbonscope.create();
await cs.firstSample();
await own.stop();
const told = Object.getOwnPropertyDescriptor(process, Symbol.for('carbonscope.cpu-prof-warned.v1'));
console.log(JSON.stringify({ told: told?.value, enumerable: told?.enumerable }));
process.exit(0);`;
    const profiled = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const { stdout, stderr } = await underRegister(script, {}, libraryRoot, 30_000, profiled);
    expect(times(stderr, WARNING), stderr).to.equal(1);
    // The mark is no enumerable property of process: `{ ...process }` in the application would
    // copy it (JSON.stringify leaves symbols out either way).
    expect(JSON.parse(stdout), stdout).to.deep.equal({ told: true, enumerable: false });
  });

  // The process's mark was set as the text was built, before the logger had it: a first
  // instance whose logger threw on the line (a broken transport) silenced every later instance.
  it("warns through a second instance's logger where the first one's failed on the line", async function () {
    this.timeout(30_000);
    const script = `const { Carbonscope } = await import('carbonscope');
const broken = { debug() {}, info() {}, error() {}, warn() { throw new Error('transport down'); } };
const first = await Carbonscope.create({ logger: broken }).then(
  () => 'created',
  (err) => err.message,
);
console.log(first);
await Carbonscope.create();
process.exit(0);`;
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--input-type=module', '-e', script],
      {
        cwd: libraryRoot,
        timeout: 30_000,
        killSignal: 'SIGKILL',
        env: childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      },
    );
    expect(stdout.trim()).to.equal('transport down');
    expect(times(stderr, WARNING), stderr).to.equal(1);
  });

  it('reads the flags as Node does: underscores, the last word standing, the command line last', () => {
    expect(cpuProfiling(['--cpu-prof'], undefined)).to.equal(true);
    expect(cpuProfiling(['--cpu_prof'], '')).to.equal(true);
    expect(cpuProfiling(['--cpu-prof', '--no-cpu-prof'], undefined)).to.equal(false);
    expect(cpuProfiling([], '--max-old-space-size=512 --cpu-prof')).to.equal(true);
    expect(cpuProfiling(['--no-cpu-prof'], '--cpu-prof')).to.equal(false);
    expect(cpuProfiling(['--cpu-prof-dir=/tmp/p', '--prof'], '--heap-prof')).to.equal(false);
  });

  it('reads a flag with a value as Node does: the name counts, the value not; quotes in NODE_OPTIONS', () => {
    // Node 20.20.2 and 24.22.3 profile under `--cpu-prof=` any value (`=false` too) and not under
    // `--no-cpu-prof=` any; Node 24 strips NODE_OPTIONS' double quotes (`"--cpu-prof"` profiles).
    expect(cpuProfiling(['--cpu-prof=true'], undefined)).to.equal(true);
    expect(cpuProfiling(['--cpu_prof=false'], undefined)).to.equal(true);
    expect(cpuProfiling(['--cpu-prof', '--no-cpu-prof=true'], undefined)).to.equal(false);
    expect(cpuProfiling([], '--cpu-prof=1')).to.equal(true);
    expect(cpuProfiling([], '"--cpu-prof" "--cpu-prof-dir=/tmp/p"')).to.equal(true);
    expect(cpuProfiling(['--cpu-prof-name=--cpu-prof'], '--title=--cpu-prof')).to.equal(false);
  });
});
