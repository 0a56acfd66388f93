import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { freePort } from '../helpers/ports.js';
import { parseSamples, scrapeAsPrometheus } from '../helpers/scrape-check.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

// `NODE_OPTIONS="--import carbonscope/register" nodemon server.js` reaches nodemon's own Node
// process before the application it starts as a child. Measured there, nodemon's process took the
// Prometheus port (seen with nodemon 3.1.14): the application's endpoint failed with EADDRINUSE
// and its figures were served nowhere. nodemon as npm installs it (the root's devDependency),
// reached by the link in the application's node_modules/.bin, as npm's scripts run it.

const nodemonProgram = join(
  dirname(createRequire(import.meta.url).resolve('nodemon/package.json')),
  'bin',
  'nodemon.js',
);

/** An application folder: an HTTP server that prints its pid and port, nodemon and carbonscope. */
function appFolder(): string {
  const dir = tempDirUntilExit('carbonscope-nodemon-app-');
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(libraryRoot, join(dir, 'node_modules', 'carbonscope'));
  symlinkSync(nodemonProgram, join(dir, 'node_modules', '.bin', 'nodemon'));
  writeFileSync(
    join(dir, 'server.js'),
    `const server = require('node:http').createServer((req, res) => {
  res.setHeader('connection', 'close');
  res.end('ok');
});
server.listen(0, '127.0.0.1', () =>
  console.log('pid ' + process.pid + ' port ' + server.address().port));
`,
  );
  return dir;
}

describe('carbonscope/register under NODE_OPTIONS, through nodemon', function () {
  this.timeout(60_000);
  let proc: ChildProcess | undefined;
  afterEach(async () => {
    // nodemon's whole group: the application is its child.
    if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      process.kill(-proc.pid, 'SIGKILL');
      await exited;
    }
    proc = undefined;
  });

  it("the application's process serves its requests on the Prometheus port, not nodemon's", async () => {
    const dir = appFolder();
    const metricsPort = await freePort();
    proc = spawn(
      join(dir, 'node_modules', '.bin', 'nodemon'),
      ['--watch', 'server.js', 'server.js'],
      {
        cwd: dir,
        env: childEnv({
          NODE_OPTIONS: '--import carbonscope/register',
          ENERGY_SOURCE: 'estimate',
          CARBON_INTENSITY: '300',
          OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    for (const stream of [proc.stdout, proc.stderr]) {
      stream?.setEncoding('utf8').on('data', (d: string) => {
        output += d;
      });
    }
    const listening = await waitFor(
      'the application listening',
      () => /pid (\d+) port (\d+)/.exec(output) ?? undefined,
      { timeoutMs: 30_000 },
    );
    const [, appPid, port] = listening ?? [];
    expect(Number(appPid), "the application is nodemon's child").to.not.equal(proc.pid);
    for (let i = 0; i < 3; i++) {
      expect(await (await fetch(`http://127.0.0.1:${port}/x`)).text()).to.equal('ok');
    }
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
    expect(output).to.not.include('EADDRINUSE');
  });
});
