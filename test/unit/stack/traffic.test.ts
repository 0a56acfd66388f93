import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { type SteppedWallClock, stepWallClock } from '#library-tests/helpers/wall-clock.js';
import { randomPath, runTraffic, sweep, trafficPlan } from '../../../tools/traffic.js';

describe('stack: traffic generator', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ method: string; path: string; body: string }> = [];
  let inFlight = 0;
  let maxInFlight = 0;

  before(async () => {
    server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', path: req.url ?? '', body });
        setTimeout(() => {
          inFlight--;
          res.statusCode = req.url?.startsWith('/healthz') ? 200 : 404;
          res.end('{}');
        }, 2);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => {
    seen.length = 0;
    maxInFlight = 0;
  });

  it('covers every endpoint of the service, with bad inputs and an unknown path', () => {
    const plan = trafficPlan(() => 0);
    const paths = new Set(plan.map((r) => `${r.method} ${r.path.split('?')[0]}`));
    for (const endpoint of [
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /carbon_intensity',
      'GET /carbon_intensity/history',
      'GET /energy',
      'GET /predict',
      'POST /predict',
      'GET /chat',
      'POST /chat',
      'GET /dashboard',
      'GET /dashboard/data',
    ]) {
      expect(paths, endpoint).to.include(endpoint);
    }
    expect(plan.some((r) => r.path.includes('zone=not-a-zone'))).to.equal(true);
    expect(
      plan.some((r) => r.method === 'POST' && JSON.stringify(r.body) === '{"activity":""}'),
    ).to.equal(true);
    expect(randomPath(() => 0.5)).to.match(/^\/[a-z]{3,8}\/[a-z]{3,8}$/);
  });

  it('sweep sends each planned request once, bodies as JSON', async () => {
    const results = await sweep(baseUrl);
    expect(results).to.have.length(seen.length);
    expect(results.find((r) => r.request.path === '/healthz')?.status).to.equal(200);
    const post = seen.find((s) => s.method === 'POST' && s.path === '/predict');
    expect(JSON.parse(post?.body ?? '')).to.have.property('activity');
  });

  it('stops at the request bound, one request in flight at a time', async () => {
    const summary = await runTraffic({
      baseUrl,
      ratePerSecond: 200,
      durationMs: 10_000,
      maxRequests: 25,
    });
    expect(summary.sent).to.equal(25);
    expect(seen).to.have.length(25);
    expect(maxInFlight).to.equal(1);
    const counted = Object.values(summary.byStatus).reduce((a, b) => a + b, 0);
    expect(counted).to.equal(25);
  });

  it('keeps its rate and its deadline when the wall clock steps', async () => {
    // The wall clock jumps 10 s ahead 100 ms into a 500 ms run (a VM resuming from a pause): read
    // on it, the run ended at that moment, and a step back would have stretched it past its bound.
    let wall: SteppedWallClock | undefined;
    const step = setTimeout(() => {
      wall = stepWallClock(10_000);
    }, 100);
    try {
      const started = performance.now();
      const summary = await runTraffic({ baseUrl, ratePerSecond: 20, durationMs: 500 });
      const ranMs = performance.now() - started;
      expect(wall, 'the wall clock stepped while it ran').to.not.equal(undefined);
      // Its deadline read on the wall clock, the step ended it ~100 ms in. A floor, not a bound:
      // no load makes it end sooner (a count's floor did: 5 sends in 500 ms failed where the
      // machine stalled the loop).
      expect(ranMs, 'ms it ran, on the monotonic clock').to.be.at.least(500);
      // Its rate: at most one send a gap (50 ms) begins before the deadline, whatever the load.
      expect(summary.sent).to.be.within(1, 11);
    } finally {
      clearTimeout(step);
      wall?.restore();
    }
  });

  it('stops at the deadline and when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    // A deadline past mocha's timeout: only the abort can end this run in time.
    const summary = await runTraffic({
      baseUrl,
      ratePerSecond: 20,
      durationMs: 600_000,
      signal: controller.signal,
    });
    expect(controller.signal.aborted).to.equal(true);
    expect(summary.sent).to.be.within(1, 4);
    const timed = await runTraffic({ baseUrl, ratePerSecond: 20, durationMs: 120 });
    expect(timed.sent).to.be.within(1, 4);
  });

  it('counts a refused connection as status 0 instead of throwing', async () => {
    const summary = await runTraffic({
      baseUrl: 'http://127.0.0.1:1',
      ratePerSecond: 50,
      durationMs: 5_000,
      maxRequests: 2,
    });
    expect(summary.byStatus).to.deep.equal({ 0: 2 });
  });

  // Ctrl-C under `npm run traffic` sends SIGINT twice (the terminal's and npm's copy). The run
  // ends after the request in flight, and with process.once a second SIGINT in that time found
  // no listener: it ended the tool by the signal, its summary never written.
  it('writes its summary and ends with 0 on a doubled SIGINT', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived = () => {};
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const holding = createServer((_req, res) => {
      arrived();
      void held.then(() => res.writeHead(404).end('{}'));
    });
    holding.listen(0, '127.0.0.1');
    await once(holding, 'listening');
    const url = `http://127.0.0.1:${(holding.address() as AddressInfo).port}`;
    const tool = fileURLToPath(new URL('../../../tools/traffic.js', import.meta.url));
    const child = spawn(process.execPath, [tool, '--base-url', url, '--rate', '50'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    try {
      await first;
      // Signals a few ms apart (the kernel merges one still pending) while its request is held.
      for (let n = 0; n < 20 && child.exitCode === null && child.signalCode === null; n++) {
        child.kill('SIGINT');
        await new Promise((r) => setTimeout(r, 2));
      }
      release();
      expect(await exited).to.deep.equal([0, null]);
      expect(JSON.parse(stdout.trim().split('\n')[1] ?? '{}')).to.deep.equal({
        sent: 1,
        byStatus: { 404: 1 },
      });
    } finally {
      release();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      holding.closeAllConnections();
      holding.close();
    }
  });

  it('says at its start that it stops at --requests where that comes before the duration', async () => {
    // `npm run traffic -- --requests 3` said "for 60 s" and ended after 3 requests.
    const tool = fileURLToPath(new URL('../../../tools/traffic.js', import.meta.url));
    const args = ['--base-url', baseUrl, '--rate', '50', '--requests', '3'];
    const { stdout } = await promisify(execFile)(process.execPath, [tool, ...args]);
    const [start, summary] = stdout.trim().split('\n');
    expect(start).to.equal(
      `traffic: 50/s to ${baseUrl} for 60 s or 3 requests, whichever comes first`,
    );
    expect(JSON.parse(summary ?? '{}')).to.include({ sent: 3 });
    const timed = await promisify(execFile)(process.execPath, [
      tool,
      '--base-url',
      baseUrl,
      '--duration',
      '0.1',
    ]);
    expect(timed.stdout.split('\n')[0]).to.equal(`traffic: 2/s to ${baseUrl} for 0.1 s`);
  });
});
