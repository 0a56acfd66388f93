import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { type OtlpReceiver, otlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/ports.js';
import { parseSamples, scrapeAsPrometheus } from '../helpers/scrape-check.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

// `NODE_OPTIONS="--import carbonscope/register" npm start` (a Docker CMD's usual shape), or
// `... nodemon server.js`, reaches the launcher's own Node process as well as the application's,
// which inherits the variable. Measured there, the launcher's process took the Prometheus port
// first (the application's endpoint then failed with EADDRINUSE and its figures were served
// nowhere; seen with npm and nodemon 3.1.14) or pushed a second OTLP series of its own. npm as
// installed on this machine, run by its name on PATH; nodemon as npm installs it (the root's
// devDependency), reached by the link in the application's node_modules/.bin.

const nodemonProgram = join(
  dirname(createRequire(import.meta.url).resolve('nodemon/package.json')),
  'bin',
  'nodemon.js',
);

/**
 * An application folder: a `start` script running an HTTP server that prints its pid and port,
 * carbonscope and nodemon linked in. With APP_REQUESTS set, the server closes after that many
 * requests and the application ends by itself.
 */
function appFolder(): string {
  const dir = tempDirUntilExit('carbonscope-launcher-app-');
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(libraryRoot, join(dir, 'node_modules', 'carbonscope'));
  symlinkSync(nodemonProgram, join(dir, 'node_modules', '.bin', 'nodemon'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'app', private: true, scripts: { start: 'node server.js' } }),
  );
  writeFileSync(
    join(dir, 'server.js'),
    `const last = Number(process.env.APP_REQUESTS ?? 0);
let served = 0;
const server = require('node:http').createServer((req, res) => {
  res.setHeader('connection', 'close');
  res.end('ok');
  if (++served === last) server.close();
});
server.listen(0, '127.0.0.1', () =>
  console.log('pid ' + process.pid + ' port ' + server.address().port));
`,
  );
  return dir;
}

interface Started {
  proc: ChildProcess;
  stderr: string[];
  /** The application's pid and port. */
  appPid: number;
  port: number;
}

/** `command` in its own process group (the launcher, its shell, the application), once it listens. */
async function launch(command: string[], env: Record<string, string>): Promise<Started> {
  const dir = appFolder();
  const [program = '', ...args] = command;
  const proc = spawn(
    program === 'nodemon' ? join(dir, 'node_modules', '.bin', program) : program,
    args,
    {
      cwd: dir,
      env: childEnv({
        NODE_OPTIONS: '--import carbonscope/register',
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        // npm asks no registry for a newer npm: the test reaches nothing outside the machine.
        npm_config_update_notifier: 'false',
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let stdout = '';
  const stderr: string[] = [];
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr.push(...d.split('\n').filter((l) => l !== ''));
  });
  const [, appPid, port] =
    (await waitFor(
      'the application listening',
      () => /pid (\d+) port (\d+)/.exec(stdout) ?? undefined,
      {
        timeoutMs: 30_000,
      },
    )) ?? [];
  return { proc, stderr, appPid: Number(appPid), port: Number(port) };
}

/** Ends the launcher's whole group: its shell may not pass a signal on to the application. */
async function stopGroup(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = once(proc, 'exit');
  process.kill(-proc.pid, 'SIGKILL');
  await exited;
}

/** Three requests to the application, answered. */
async function requests(port: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    expect(await (await fetch(`http://127.0.0.1:${port}/x`)).text()).to.equal('ok');
  }
}

const instanceId = (attrs: Array<{ key: string; value: { stringValue?: string } }>) =>
  attrs.find((a) => a.key === 'service.instance.id')?.value.stringValue ?? '';

describe('carbonscope/register under NODE_OPTIONS, through a launcher', function () {
  this.timeout(60_000);
  let started: Started | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    if (started) await stopGroup(started.proc);
    started = undefined;
    await receiver?.close();
    receiver = undefined;
  });

  for (const command of [
    ['npm', 'start'],
    ['nodemon', '--watch', 'server.js', 'server.js'],
  ]) {
    it(`${command[0]}: the application's endpoint serves its requests; the launcher's took no port`, async () => {
      const metricsPort = await freePort();
      started = await launch(command, {
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      });
      expect(started.appPid, "the application is the launcher's child").to.not.equal(
        started.proc.pid,
      );
      await requests(started.port);
      const url = `http://127.0.0.1:${metricsPort}/metrics`;
      const counted = await waitFor(
        "the application's three requests on the endpoint",
        async () =>
          parseSamples((await scrapeAsPrometheus(url)).text).filter(
            (s) => s.name === 'carbonscope_operation_energy_joules_count',
          ),
        { timeoutMs: 15_000, until: (s) => s.reduce((n, x) => n + x.value, 0) >= 3 },
      );
      expect(counted.reduce((n, x) => n + x.value, 0)).to.equal(3);
      const targets = parseSamples((await scrapeAsPrometheus(url)).text).filter(
        (s) => s.name === 'target_info',
      );
      expect(targets, 'one process on the endpoint').to.have.length(1);
      expect(started.stderr.join('\n')).to.not.include('EADDRINUSE');
    });
  }

  // Asked once npm has exited, not after a wait: the application ends by itself, its last push
  // held until delivered, and npm's own process, had it been measured, would have pushed its
  // own before ending after it. Every push there will be has then arrived.
  it('npm start, otlp: only the application pushes, one series under one service.instance.id', async () => {
    receiver = await otlpReceiver();
    started = await launch(['npm', 'start'], {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      APP_REQUESTS: '3',
    });
    const exited = once(started.proc, 'exit');
    await requests(started.port);
    expect(await exited, "npm's exit code").to.deep.equal([0, null]);
    const resources = receiver.pushes.flatMap((p) => p.body.resourceMetrics);
    const pushers = new Set(resources.map((rm) => instanceId(rm.resource.attributes)));
    expect([...pushers], 'processes pushing').to.have.length(1);
    const ops = resources.some((rm) =>
      rm.scopeMetrics.some((sm) =>
        sm.metrics.some((m) => m.name === 'carbonscope.operation.energy'),
      ),
    );
    expect(ops, "the application's requests pushed").to.equal(true);
    expect(started.stderr.join('\n')).to.not.match(/carbonscope: (error|warn)/);
  });
});
