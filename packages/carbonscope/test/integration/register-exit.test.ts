// Every way a Node process ends, under `node --import carbonscope/register` pushing OTLP to a
// loopback receiver: what was counted is pushed once where the process gives register a turn
// after it (an end by itself, a handled signal), and said to be lost in one line where it gives
// none (process.exit(), a crash); the process ends as it would without carbonscope, its code,
// its signal and its crash message unchanged.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { METRICS } from '../../src/metrics/index.js';
import { libraryRoot } from '../../src/paths.js';
import { aheadOfTests } from '../helpers/ahead-of-tests.js';
import { childEnv } from '../helpers/child-env.js';
import {
  histogramPoint,
  metricsOf,
  type OtlpReceiver,
  otlpReceiver,
  sumOf,
} from '../helpers/otlp-receiver.js';
import { linesOf, runToEnd } from '../helpers/spawn.js';

/** The folder whose package.json lets `carbonscope` resolve to this package, as a user's does. */
const APP_DIR = join(libraryRoot, 'test', 'fixtures', 'register');

/** One tracked job once register has started its SDK (0.1 s), then `ending`. */
const script = (ending: string) => `import { stop, track } from 'carbonscope';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(300);
track('job', () => { for (const t = Date.now(); Date.now() - t < 20;); });
await sleep(300);
${ending}
console.log('ready');`;

/** Keeps the process up until a signal the test sends: the app's listeners decide the rest. */
const SERVING = 'const serving = setInterval(() => {}, 1000);';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string[];
  stderr: string[];
}

function runApp(
  body: string,
  env: Record<string, string>,
  signal?: NodeJS.Signals,
): Promise<Ended> {
  return runNode(['--input-type=module', '-e', script(body)], env, signal);
}

/** `node --import carbonscope/register ...args`, after the modules `before` imports. */
async function runNode(
  args: string[],
  env: Record<string, string>,
  signal?: NodeJS.Signals,
  before: string[] = [],
): Promise<Ended> {
  const imports = [...before, 'carbonscope/register'].flatMap((m) => ['--import', m]);
  const r = await runToEnd(
    process.execPath,
    [...imports, ...args],
    childEnv({
      OTEL_METRICS_EXPORTER: 'otlp',
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      // Longer than the test: whatever arrives was pushed at the end.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      ...env,
    }),
    {
      cwd: APP_DIR,
      signal: signal && { after: 'ready', send: signal },
      killAfterMs: 20_000,
    },
  );
  return { code: r.code, signal: r.signal, stdout: linesOf(r.stdout), stderr: linesOf(r.stderr) };
}

const carbonscopeLines = (r: Ended) => r.stderr.filter((l) => l.startsWith('carbonscope'));

/** The job's count in each push: [1] is one push that carried it. */
const jobsPushed = (receiver: OtlpReceiver) =>
  receiver.pushes.map(
    (p) =>
      histogramPoint(p.body, METRICS.operationEnergy.name, 'carbonscope.operation', 'job')?.count ??
      0,
  );

const LOST =
  /^carbonscope: warning: carbonscope\/register: the process (exited with code \d+|crashed on an uncaught error) before its last push: what was counted since the last push is not exported/;

/** How many of the file's processes run at once: most of each one's time is its own sleeps. */
const AT_ONCE = 3;

describe('register and the ways a process ends', function () {
  this.timeout(60_000);
  // Each test's process, started ahead, each pushing to a receiver of its own.
  const processes = aheadOfTests(AT_ONCE);
  const receivers: OtlpReceiver[] = [];
  before(() => processes.startAll());
  after(async () => {
    await processes.settled();
    await Promise.all(receivers.map((r) => r.close()));
  });
  /** The receiver of the process the current test awaited. */
  let receiver: OtlpReceiver;
  /** A process started ahead with `launch`: the test's call sets `receiver` to its receiver. */
  const ahead = (launch: (env: Record<string, string>) => Promise<Ended>) => {
    const ran = processes.add(async () => {
      const its = await otlpReceiver();
      receivers.push(its);
      return { r: await launch({ OTEL_EXPORTER_OTLP_ENDPOINT: its.url }), receiver: its };
    });
    return async () => {
      const run = await ran();
      receiver = run.receiver;
      return run.r;
    };
  };
  /** A test of a process started ahead with `launch`, asserted on by `check` in its turn. */
  const itEnds = (
    title: string,
    launch: (env: Record<string, string>) => Promise<Ended>,
    check: (r: Ended) => Promise<void>,
  ) => {
    const ended = ahead(launch);
    it(title, async () => check(await ended()));
  };

  function expectPushedOnce(r: Ended): void {
    const all = r.stderr.join('\n');
    expect(receiver.failures, all).to.deep.equal([]);
    expect(jobsPushed(receiver), all).to.deep.equal([1]);
    expect(sumOf(metricsOf(receiver.pushes[0]?.body), METRICS.processEnergy.name)).to.be.above(0);
    expect(carbonscopeLines(r), all).to.deep.equal([]);
  }

  describe('ends that give register a turn: one push, the code kept', () => {
    itEnds(
      'the event loop runs empty',
      (env) => runApp('', env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([0, null]);
        expectPushedOnce(r);
      },
    );

    itEnds(
      'process.exitCode = 3, then the loop runs empty',
      (env) => runApp('process.exitCode = 3;', env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expectPushedOnce(r);
      },
    );

    itEnds(
      '`await stop()`, then process.exit(3)',
      (env) => runApp('await stop(); process.exit(3);', env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expectPushedOnce(r);
      },
    );

    // Two handlers that each await stop() (SIGTERM's and SIGINT's, a shutdown hook's beside the
    // app's own): the second resolved at once, the stop under way not pushed yet, and the exit
    // after it lost the push (and said so).
    itEnds(
      'a second stop() while the first is under way, awaited, then process.exit(3)',
      (env) => runApp('void stop(); await stop(); process.exit(3);', env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expectPushedOnce(r);
      },
    );

    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      itEnds(
        `${signal}, which the app handles by closing what it serves`,
        (env) => {
          const handler = `${SERVING} process.once('${signal}', () => clearInterval(serving));`;
          return runApp(handler, env, signal);
        },
        async (r) => {
          expect([r.code, r.signal]).to.deep.equal([0, null]);
          expectPushedOnce(r);
        },
      );
    }

    // The README's handler, kept with process.on: a second signal while the stop runs (npm's
    // forwarded copy of a SIGTERM beside the one sent to the group; Ctrl-C pressed again) runs
    // it again, and its stop() resolves with the first, after the push. The re-sending listener
    // stands for that second copy. The recipe handled SIGTERM alone: a SIGINT (Ctrl-C in a
    // terminal, under `npm start`) ended the process by Node's default, its last push lost.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      itEnds(
        `${signal} twice, the README's handler (process.on for SIGTERM and SIGINT, await stop(), process.exit(0))`,
        (env) => {
          const app = `${SERVING}
const shutdown = async () => { clearInterval(serving); await stop(); process.exit(0); };
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.once('${signal}', () => process.kill(process.pid, '${signal}'));`;
          return runApp(app, env, signal);
        },
        async (r) => {
          expect([r.code, r.signal]).to.deep.equal([0, null]);
          expectPushedOnce(r);
        },
      );
    }

    itEnds(
      'an uncaught exception the app handles (its exitCode kept)',
      (env) => {
        const app = `process.on('uncaughtException', (e) => { console.log('caught', e.message); process.exitCode = 4; });
setTimeout(() => { throw new Error('boom'); }, 10);`;
        return runApp(app, env);
      },
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([4, null]);
        expect(r.stdout).to.include('caught boom');
        expectPushedOnce(r);
      },
    );
  });

  describe('a signal nobody handles: Node ends the process by it, register adds no handler', () => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'] as const) {
      itEnds(
        `${signal}: killed by it, nothing pushed (nothing of register runs)`,
        (env) => runApp(SERVING, env, signal),
        async (r) => {
          expect([r.code, r.signal]).to.deep.equal([null, signal]);
          expect(receiver.pushes).to.deep.equal([]);
          expect(carbonscopeLines(r)).to.deep.equal([]);
        },
      );
    }

    itEnds(
      'a SIGTERM the app handles without ending: the process runs on',
      (env) => {
        const app = `${SERVING} process.on('SIGTERM', () => { console.log('got'); setTimeout(() => { clearInterval(serving); }, 300); });`;
        return runApp(app, env, 'SIGTERM');
      },
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([0, null]);
        expect(r.stdout).to.include('got');
        expectPushedOnce(r);
      },
    );
  });

  describe('ends that give register no turn: nothing pushed, one line says so, the end unchanged', () => {
    function expectLostAndTold(r: Ended, how: RegExp): void {
      const all = r.stderr.join('\n');
      expect(receiver.pushes, all).to.deep.equal([]);
      const told = carbonscopeLines(r);
      expect(told, all).to.have.length(1);
      expect(told[0]).to.match(LOST);
      expect(told[0]).to.match(how);
    }

    itEnds(
      'process.exit(3)',
      (env) => runApp('process.exit(3);', env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expectLostAndTold(r, /exited with code 3 .*`await stop\(\)` from carbonscope before/);
      },
    );

    itEnds(
      'process.exit(3) before the first sample (0.1 s), the SDK installed',
      (env) => runNode(['-e', 'setTimeout(() => process.exit(3), 50)'], env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expectLostAndTold(r, /exited with code 3 /);
      },
    );

    itEnds(
      "stderr's write throwing (the app's stream closed): the exit is the app's, no error of ours",
      (env) => {
        const app = `process.stderr.write = () => { throw new Error('closed'); }; process.exit(3);`;
        return runApp(app, env);
      },
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expect(r.stderr, r.stderr.join('\n')).to.deep.equal([]);
      },
    );

    itEnds(
      'a SIGTERM handler that calls process.exit(0) at once',
      (env) => runApp(`${SERVING} process.once('SIGTERM', () => process.exit(0));`, env, 'SIGTERM'),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([0, null]);
        expectLostAndTold(r, /exited with code 0 /);
      },
    );

    itEnds(
      'stop() not awaited before process.exit(0)',
      (env) => runApp('void stop(); process.exit(0);', env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([0, null]);
        expectLostAndTold(r, /exited with code 0 /);
      },
    );

    itEnds(
      'an uncaught exception: the same crash, its message first, code 1',
      (env) => runApp(`setTimeout(() => { throw new Error('boom-7'); }, 10);`, env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([1, null]);
        expect(r.stderr.join('\n')).to.match(/^Error: boom-7$/m);
        // Node emits `exit` before it prints its report: the line comes first, the report whole
        // after it, to its last line, as without carbonscope.
        expect(r.stderr[0]).to.match(LOST);
        expect(r.stderr.at(-1)).to.match(/^Node\.js v\d+/);
        expectLostAndTold(r, /crashed on an uncaught error/);
      },
    );

    itEnds(
      'an unhandled rejection: the same crash, code 1',
      (env) => runApp(`Promise.reject(new Error('boom-8'));`, env),
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([1, null]);
        expect(r.stderr.join('\n')).to.match(/^Error: boom-8$/m);
        expectLostAndTold(r, /crashed on an uncaught error/);
      },
    );

    // Node (20 and 24 alike) reports an ES module's failed load through the rejection of its own
    // load's promise: the monitor's origin is `unhandledRejection`, where the application threw
    // as it loaded. The line names neither: Node's report after it says what the error was. A
    // load that fails before register's meter started (Node 24 links `-e`'s imports at once)
    // counted nothing and is told of by no line.
    const loadFailures: [string, string, RegExp][] = [
      ['a top-level throw', `throw new Error('boom-9');`, /^Error: boom-9$/m],
      ['an import of a missing module', `import './missing-9.js';`, /ERR_MODULE_NOT_FOUND/],
    ];
    for (const [what, body, report] of loadFailures) {
      itEnds(
        `an ES module whose load fails (${what}): the same error and code, the line not a rejection`,
        (env) => runNode(['--input-type=module', '-e', body], env),
        async (r) => {
          const all = r.stderr.join('\n');
          expect([r.code, r.signal], all).to.deep.equal([1, null]);
          expect(all).to.match(report);
          expect(r.stderr.at(-1)).to.match(/^Node\.js v\d+/);
          expect(all).to.not.match(/unhandled rejection/);
          if (carbonscopeLines(r).length > 0) expectLostAndTold(r, /crashed on an uncaught error/);
          else expect(receiver.pushes, all).to.deep.equal([]);
        },
      );
    }
  });

  itEnds(
    "carbonscope's own command line under register: no line of its own end (it measures the command)",
    async (env) => {
      const bin = join(libraryRoot, 'bin', 'carbonscope.js');
      const args = ['--import', 'carbonscope/register', bin, 'run', '--', process.execPath];
      const finished = await runToEnd(
        process.execPath,
        [...args, '-e', 'setTimeout(() => {}, 300)'],
        childEnv({
          OTEL_METRICS_EXPORTER: 'otlp',
          ENERGY_SOURCE: 'estimate',
          CARBON_INTENSITY: '300',
          ...env,
        }),
        { cwd: APP_DIR, killAfterMs: 20_000 },
      );
      return { ...finished, stdout: [], stderr: finished.stderr.split('\n') };
    },
    async (r) => {
      const all = r.stderr.join('\n');
      expect([r.code, r.signal], all).to.deep.equal([0, null]);
      expect(all).to.match(/exited with code 0 after/);
      expect(all).to.not.include('before its last push');
    },
  );

  itEnds(
    "carbonscope's own command line, by a link as npm installs it: register stands down there",
    async (env) => {
      // Its figures are the command's, which it reports itself: a meter of the CLI's own process,
      // pushed as a series of its own, would be a second and misleading one.
      const dir = await mkdtemp(join(tmpdir(), 'cs-bin-'));
      try {
        const link = join(dir, 'carbonscope');
        await symlink(join(libraryRoot, 'bin', 'carbonscope.js'), link);
        const command = [link, 'run', '--', process.execPath, '-e', 'setTimeout(() => {}, 800)'];
        // Pushes every 0.2 s where register meters the CLI: several during the command.
        return await runNode(command, { ...env, OTEL_METRIC_EXPORT_INTERVAL: '200' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async (r) => {
      const all = r.stderr.join('\n');
      expect([r.code, r.signal], all).to.deep.equal([0, null]);
      expect(all).to.match(/exited with code 0 after/);
      expect(receiver.pushes, all).to.deep.equal([]);
      expect(all).to.not.include('carbonscope/register');
    },
  );

  describe('where nothing would be pushed, nothing is said', () => {
    // Before the first sample (0.1 s) register has not tried the SDK: at the exit it looks.
    itEnds(
      'the SDK packages missing: process.exit(3) before the first sample',
      (env) => {
        const exitSoon = ['-e', 'setTimeout(() => process.exit(3), 50)'];
        return runNode(exitSoon, env, undefined, ['./no-sdk.js']);
      },
      async (r) => {
        expect([r.code, r.signal]).to.deep.equal([3, null]);
        expect(carbonscopeLines(r), r.stderr.join('\n')).to.deep.equal([]);
      },
    );

    for (const exporter of ['prometheus', 'none']) {
      itEnds(
        `OTEL_METRICS_EXPORTER=${exporter}: process.exit(3) ends as without carbonscope`,
        (env) =>
          runApp('process.exit(3);', {
            ...env,
            OTEL_METRICS_EXPORTER: exporter,
            OTEL_EXPORTER_PROMETHEUS_PORT: '0',
          }),
        async (r) => {
          expect([r.code, r.signal]).to.deep.equal([3, null]);
          // Port 0: the endpoint's one line at start, which port the OS chose; none at the end.
          const told = carbonscopeLines(r);
          const port =
            /OTEL_EXPORTER_PROMETHEUS_PORT=0: the Prometheus endpoint is http:\/\/localhost:\d+\/metrics,/;
          const all = r.stderr.join('\n');
          expect(told, all).to.have.length(exporter === 'prometheus' ? 1 : 0);
          if (exporter === 'prometheus') expect(told[0], all).to.match(port);
        },
      );
    }
  });
});

// The line is exact: an exit after a periodic push with nothing counted since loses nothing. The
// test sends SIGUSR2 once the app has taken a push's answer (the exporter's line of its outcome,
// OTEL_LOG_LEVEL=verbose: register marks what the push carried in the same turn); the app's
// handler does what `onSignal` says, then exits. One sample only (the first, before the SDK
// starts): a later one would be something counted since the push. The signal used to come a
// fixed 0.5 s after the push arrived: an answer the app took later than that (700 ms) made the
// push one it had not seen arrive, and the line was said where nothing was lost.
describe('register: the exit line after a periodic push', function () {
  this.timeout(60_000);

  /** In the app's handler: a sample after the signal, so after the push's collection. */
  const afterNextSample = `const before = snapshot()?.samples ?? 0;
await new Promise((resolve) => {
  const poll = setInterval(() => {
    if ((snapshot()?.samples ?? 0) > before) resolve(clearInterval(poll));
  }, 10);
});`;

  /** The exporter's lines (verbose, info) of a push's outcome. */
  const PUSH_ENDED = /Export succeeded after|Export failed with non-retryable error/;

  /** Once the app took a push's answer from `receiver`, SIGUSR2 to it; it then runs `onSignal`. */
  function exitAfterPushes(
    receiver: OtlpReceiver,
    onSignal: string,
    extra: Record<string, string> = {},
  ): Promise<Ended & { arrivedBeforeExit: number }> {
    const app = `import { snapshot, track } from 'carbonscope';
setInterval(() => {}, 1000);
process.once('SIGUSR2', async () => { ${onSignal} process.exit(3); });`;
    return new Promise((resolve, reject) => {
      const proc = spawn(
        process.execPath,
        ['--import', 'carbonscope/register', '--input-type=module', '-e', app],
        {
          cwd: APP_DIR,
          env: childEnv({
            OTEL_METRICS_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            // Two seconds between pushes: the signal comes after the first, before the second.
            OTEL_METRIC_EXPORT_INTERVAL: '2000',
            ENERGY_SAMPLE_INTERVAL_MS: '60000',
            ENERGY_SOURCE: 'estimate',
            CARBON_INTENSITY: '300',
            OTEL_LOG_LEVEL: 'verbose',
            ...extra,
          }),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      let diag = '';
      let arrivedBeforeExit = 0;
      let signalled = false;
      const read = (text: string) => {
        diag += text;
        if (signalled || !PUSH_ENDED.test(diag)) return;
        signalled = true;
        arrivedBeforeExit = receiver.received.length;
        proc.kill('SIGUSR2');
      };
      proc.stdout.setEncoding('utf8').on('data', read);
      proc.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        read(d);
      });
      const hung = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      proc.on('error', reject);
      proc.on('close', (code, signal) => {
        clearTimeout(hung);
        const lines = stderr.split('\n').filter((l) => l !== '');
        resolve({ code, signal, stdout: [], stderr: lines, arrivedBeforeExit });
      });
    });
  }

  it('nothing counted since the push: no line', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await exitAfterPushes(receiver, '');
      expect([r.code, r.signal]).to.deep.equal([3, null]);
      expect(r.arrivedBeforeExit, 'one push before the exit').to.equal(1);
      expect(carbonscopeLines(r), r.stderr.join('\n')).to.deep.equal([]);
    } finally {
      await receiver.close();
    }
  });

  it('one operation ended since the push: the line', async () => {
    const receiver = await otlpReceiver();
    try {
      const r = await exitAfterPushes(receiver, "track('job', () => {});");
      expect([r.code, r.signal]).to.deep.equal([3, null]);
      expect(r.arrivedBeforeExit, 'one push before the exit').to.equal(1);
      const told = carbonscopeLines(r);
      expect(told, r.stderr.join('\n')).to.have.length(1);
      expect(told[0]).to.match(LOST);
    } finally {
      await receiver.close();
    }
  });

  it('samples taken since the push (the energy grew): the line', async () => {
    const receiver = await otlpReceiver();
    try {
      // The signal comes once the push's answer is taken, which can be before the next sample.
      const r = await exitAfterPushes(receiver, afterNextSample, {
        ENERGY_SAMPLE_INTERVAL_MS: '100',
      });
      expect([r.code, r.signal]).to.deep.equal([3, null]);
      expect(r.arrivedBeforeExit, 'one push before the exit').to.equal(1);
      const told = carbonscopeLines(r);
      expect(told, r.stderr.join('\n')).to.have.length(1);
      expect(told[0]).to.match(LOST);
    } finally {
      await receiver.close();
    }
  });

  // A push that failed did not export what it collected: under cumulative temporality the next
  // push would have carried it again, so the exit loses it; the line counts from the last push
  // that succeeded.
  it('the push refused (HTTP 400), nothing counted since: the line', async () => {
    const receiver = await otlpReceiver({ answer: () => 400 });
    try {
      const r = await exitAfterPushes(receiver, '');
      expect([r.code, r.signal]).to.deep.equal([3, null]);
      expect(r.arrivedBeforeExit, 'one push before the exit').to.equal(1);
      expect(
        carbonscopeLines(r).filter((l) => LOST.test(l)),
        r.stderr.join('\n'),
      ).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });
});
