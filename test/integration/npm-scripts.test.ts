import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { childEnv } from '#library-tests/helpers/child-env.js';
import { projectRoot } from '../../src/paths.js';
import { COLLECTOR_CONFIG, collectorBinary } from '../helpers/collector.js';
import { freePorts } from '../helpers/spawn-server.js';
import { waitFor } from '../helpers/wait.js';

// What the README has an operator run with npm and later stop: npm passes SIGTERM to the `sh -c`
// that runs a script, and sh dies without passing it on, so a script that does not `exec` its
// process leaves it running (`npm start` had this fixed; `npm run otelcol` left the Collector
// holding 4317, 4318 and 8889 after its npm was killed, 2026-12-06). SIGTERM is what a process
// manager, `kill` or a terminal closing sends; Ctrl-C reaches the whole group and is no test.

/** Runs `npm run <script> -- <args>`, waits for `ready`, SIGTERMs npm, then asks `alive`. */
async function stopsWithNpm(
  script: string,
  args: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
  alive: () => Promise<boolean>,
): Promise<boolean> {
  const npm = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: projectRoot,
    env: childEnv({ HOME: process.env.HOME ?? '', ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  // Awaited from the start: an npm that ended before the SIGTERM (its script crashed once ready)
  // would otherwise be awaited for an exit already past, until mocha's timeout.
  const exited = new Promise((resolve) => npm.once('exit', resolve));
  let stderr = '';
  npm.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  try {
    await waitFor(
      `npm run ${script} to be ready`,
      async () => {
        if (npm.exitCode !== null) throw new Error(`npm run ${script} ended: ${stderr}`);
        return ready();
      },
      30_000,
    );
    npm.kill('SIGTERM');
    await exited;
    // Given 5 s to stop, as a process manager gives before its SIGKILL.
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      if (!(await alive())) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  } finally {
    // The whole group, npm's shell and what it ran: nothing of the test is left behind.
    try {
      if (npm.pid) process.kill(-npm.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const answers = (url: string) => () =>
  fetch(url).then(
    (r) => r.ok,
    () => false,
  );

describe('npm scripts that run a process until stopped pass SIGTERM on to it', function () {
  // Above the 30 s wait for a script to be ready and the 5 s given it to stop, so that a slow
  // start fails with that wait's message, not mocha's, and its process group is killed first.
  this.timeout(60_000);

  it('npm run mock-llm', async () => {
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port}/healthz`;
    const env = { HOST: '127.0.0.1', MOCK_LLM_PORT: String(port) };
    const alive = await stopsWithNpm('mock-llm', [], env, answers(url), answers(url));
    expect(alive, 'the mock LLM still served after npm got SIGTERM').to.equal(false);
  });

  it('npm run otelcol', async () => {
    collectorBinary(); // built by the test setup; throws its one line when it cannot be had
    const [grpc, http, exporter, health] = await freePorts(4);
    const args = ['--config', COLLECTOR_CONFIG];
    for (const s of [
      `receivers::otlp::protocols::grpc::endpoint=127.0.0.1:${grpc}`,
      `receivers::otlp::protocols::http::endpoint=127.0.0.1:${http}`,
      `exporters::prometheus::endpoint=127.0.0.1:${exporter}`,
      `extensions::health_check::endpoint=127.0.0.1:${health}`,
      'service::telemetry::metrics::level=none',
    ]) {
      args.push('--set', s);
    }
    const url = `http://127.0.0.1:${health}/`;
    const alive = await stopsWithNpm('otelcol', args, {}, answers(url), answers(url));
    expect(alive, 'the Collector still ran after npm got SIGTERM').to.equal(false);
  });

  it('npm run traffic', async () => {
    let requests = 0;
    const target = createServer((_req, res) => {
      requests++;
      res.end('{}');
    });
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    try {
      const args = ['--base-url', base, '--rate', '20', '--duration', '60'];
      let seen = 0;
      const sending = async () => {
        const before = requests;
        await new Promise((r) => setTimeout(r, 500));
        seen = requests;
        return requests > before;
      };
      const alive = await stopsWithNpm('traffic', args, {}, async () => requests > 0, sending);
      expect(alive, `traffic still sent after npm got SIGTERM (${seen} requests)`).to.equal(false);
    } finally {
      target.closeAllConnections();
      target.close();
    }
  });
});
