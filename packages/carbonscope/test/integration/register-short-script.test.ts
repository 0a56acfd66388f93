import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { type Finished, runToEnd } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';
import { fakePid, tempDir, writeFakeBinary } from '../unit/energy/sources/helpers.js';

// `node --import carbonscope/register script.js` must end when the script does, as it would
// without carbonscope: register waits for nothing of its own. An nvidia-smi on PATH is probed
// at start-up; a driver without persistence mode takes a second or more before its first line,
// a hung one never prints. The probe may keep a process alive that awaits it (monitor, a
// script's `await tracker.start()`), never one that only registered carbonscope.
const REGISTER = fileURLToPath(new URL('../../src/register.js', import.meta.url));
const INDEX = new URL('../../src/index.js', import.meta.url).href;

const H200_LINE = '0, GPU-d8e27244-0719-2aa8-0140-8c7d084b3152, NVIDIA H200, 77.36\n';

/** Whether `pid` runs: a zombie has ended, whoever is yet to reap it (kill(pid, 0) says yes). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

type Outcome = Finished;

/**
 * A script's last line, then `held` should anything keep the process up for a second after it:
 * the timer is unref'd, so holds nothing itself. Asserted by what the script prints, not timed
 * from outside, where load slows the start-up (the SDK's loading) and not this second.
 */
const HELD_SENTINEL = 'setTimeout(() => console.log("held"), 1000).unref();';

/** Whether something takes connections at localhost:`port` (a developer's own collector). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, 'localhost');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `node ...args` to its end, in an empty folder (the scripts name what they import by path). */
function runNode(args: string[], env: Record<string, string>): Promise<Outcome> {
  return runToEnd(process.execPath, args, env);
}

describe('carbonscope/register in a short script', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('register-short'));
  });
  afterEach(() => cleanup());

  // No OTEL_* variable: the spec's default exporter, OTLP to localhost:4318, where nothing
  // listens. A script that ends before the meter started (a probe still running) pushes nothing.
  const envWith = (path: string, env: Record<string, string> = {}) =>
    childEnv({ PATH: path, CARBON_INTENSITY: '300', CARBON_ZONE: 'DE', ...env });
  /** The line that says the script ended before the meter started, so nothing was pushed. */
  const nothingPushed = (r: Outcome) =>
    r.stderr.split('\n').filter((l) => l.includes('still being probed, before the meter started'));
  const script = ['--input-type=module', '-e', `console.log("done"); ${HELD_SENTINEL}`];

  /** The script under register, which ended with it: no `held` (HELD_SENTINEL). */
  async function endsWithScript(path: string, env: Record<string, string> = {}): Promise<Outcome> {
    const registered = await runNode(['--import', REGISTER, ...script], envWith(path, env));
    expect(registered.code, registered.stderr).to.equal(0);
    expect(registered.stdout, 'held after its end').to.equal('done\n');
    return registered;
  }

  it('ends at once beside an nvidia-smi that never prints (a hung driver)', async () => {
    // The probe waits 3 intervals + 2 s (5 s) for a line: the script must not.
    writeFakeBinary(dir, 'nvidia-smi', 'setInterval(() => undefined, 60_000);');
    const registered = await endsWithScript(`${dir}:${process.env.PATH ?? ''}`);
    expect(nothingPushed(registered), registered.stderr).to.have.length(1);
  });

  it('leaves no nvidia-smi behind that was still being probed when the script ended', async () => {
    writeFakeBinary(dir, 'nvidia-smi', 'setInterval(() => undefined, 60_000);');
    // The script ends once the probe's nvidia-smi has started (its first line writes its pid),
    // or 10 s on without one; not after a fixed time, which a loaded machine's start of that
    // node may outlast. It never prints, so no closed pipe would end it.
    const pidFile = join(dir, 'nvidia-smi.pid');
    const untilSpawned = `import { readFileSync } from 'node:fs';
const written = () => { try { return readFileSync(${JSON.stringify(pidFile)}, 'utf8') !== ''; } catch { return false; } };
const t = setInterval(() => written() && clearInterval(t), 20);
setTimeout(() => clearInterval(t), 10_000).unref();`;
    const r = await runNode(
      ['--import', REGISTER, '--input-type=module', '-e', untilSpawned],
      envWith(`${dir}:${process.env.PATH ?? ''}`),
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(pidFile), 'the probe spawned nvidia-smi').to.equal(true);
    const pid = fakePid(dir, 'nvidia-smi');
    try {
      await waitFor('the hung nvidia-smi probe to end', () => !running(pid), 2000);
    } finally {
      if (running(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('ends at once beside an nvidia-smi that prints its first line 2 s after it starts', async () => {
    writeFakeBinary(
      dir,
      'nvidia-smi',
      `setTimeout(() => { process.stdout.write(${JSON.stringify(H200_LINE)}); setInterval(() => process.stdout.write(${JSON.stringify(H200_LINE)}), 1000); }, 2000);`,
    );
    const registered = await endsWithScript(`${dir}:${process.env.PATH ?? ''}`);
    // Ended with the probe still running: its answer 2 s after the start was not waited for.
    expect(nothingPushed(registered), registered.stderr).to.have.length(1);
  });

  it('ends at once without any nvidia-smi, with nothing to export', async () => {
    // Only node's own folder: no nvidia-smi, no powermetrics. The meter has started when the
    // script ends: with an exporter it would push (register-otlp's tests), so none here.
    const registered = await endsWithScript(dirname(process.execPath), {
      OTEL_METRICS_EXPORTER: 'none',
    });
    expect(registered.stderr).to.equal('');
  });

  // No OTEL_* variable: the spec's default exporter, OTLP to localhost:4318, refused at once
  // where nothing listens (any Node tool run under NODE_OPTIONS=--import carbonscope/register).
  // The exporter tried again 1 s later: every such run ended a second late.
  it("ends at once with the spec's default exporter and nothing at localhost:4318", async () => {
    // Taken, the default would push there: named, not skipped in silence.
    expect(await listening(4318), 'this test needs localhost:4318 free').to.equal(false);
    // The exporter's lines (verbose) say what it did: no retry. Counted, not timed: under load
    // the SDK's loading alone outlasted the retry's back-off (1 s ± 20 %).
    const env = { ...envWith(dirname(process.execPath)), OTEL_LOG_LEVEL: 'verbose' };
    const r = await runNode(['--import', REGISTER, ...script], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.split('\n')[0]).to.equal('done');
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const count = (text: string) => lines.filter((l) => l.includes(text)).length;
    expect(
      { retries: count('Scheduling export retry'), failedAtOnce: count('non-retryable error') },
      r.stderr,
    ).to.deep.equal({
      retries: 0,
      failedAtOnce: 1,
    });
    const told = r.stderr.split('\n').filter((l) => l.startsWith('carbonscope'));
    expect(told, r.stderr).to.have.length(1);
    expect(told[0]).to.match(/could not push the last metrics to .*ECONNREFUSED/);
  });

  it("still keeps a script alive that awaits tracker.start() beside it (the probe's answer)", async () => {
    writeFakeBinary(
      dir,
      'nvidia-smi',
      `setTimeout(() => { process.stdout.write(${JSON.stringify(H200_LINE)}); setInterval(() => process.stdout.write(${JSON.stringify(H200_LINE)}), 200); }, 1000);`,
    );
    const awaiting = `
import { EmissionsTracker } from ${JSON.stringify(INDEX)};
const tracker = new EmissionsTracker('job');
await tracker.start();
const f = await tracker.stop();
console.log(JSON.stringify({ operation: f.operation }));
`;
    const r = await runNode(['--import', REGISTER, '--input-type=module', '-e', awaiting], {
      ...envWith(`${dir}:${process.env.PATH ?? ''}`),
      // No collector here: register's own SDK would spend its last push's timeout on it.
      OTEL_METRICS_EXPORTER: 'none',
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ operation: 'job' });
  });
});

describe('CarbonscopeInstrumentation in a short script', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('instrumentation-short'));
    // A hung driver: the probe would wait 5 s for a line.
    writeFakeBinary(dir, 'nvidia-smi', 'setInterval(() => undefined, 60_000);');
  });
  afterEach(() => cleanup());

  const env = () =>
    childEnv({
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      CARBON_INTENSITY: '300',
      CARBON_ZONE: 'DE',
    });
  const withInstrumentation = (body: string) => [
    '--input-type=module',
    '-e',
    `import { CarbonscopeInstrumentation } from ${JSON.stringify(INDEX)};
const instrumentation = new CarbonscopeInstrumentation();
${body}`,
  ];

  it('ends at once, as the script would without it, beside a hung nvidia-smi', async () => {
    const r = await runNode(withInstrumentation(`console.log("done"); ${HELD_SENTINEL}`), env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout, 'held after its end').to.equal('done\n');
  });

  it('keeps a script alive that awaits ready() (the probe answers, after its timeout here)', async () => {
    const r = await runNode(
      withInstrumentation('await instrumentation.ready(); console.log("ready");'),
      env(),
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('ready\n');
  });
});
