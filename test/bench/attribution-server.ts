/**
 * The server of the attribution benchmark: a small Koa service metered with the library as a
 * user would meter theirs (Carbonscope.create, trackRequests), with three routes whose CPU
 * differs: /cpu (CPU-bound), /io (awaits a mock upstream, little CPU) and /mixed (some of both).
 * Settings from the environment (ENERGY_OPERATION_ATTRIBUTION and the rest); UPSTREAM_URL, the
 * work sizes CPU_ITERATIONS and MIXED_ITERATIONS, PORT and HOST.
 *
 * Each request's settled footprint is added to the phase current when its handler started
 * (through captureContext, the tracker's own hook): POST /phase?name=… switches the phase, GET
 * /stats answers the totals per phase and route, the process's energy and CPU, and the
 * calibrated CPU densities, GET /process-cpu the process's CPU time and how many major
 * collections it has had (major-gcs.ts), GET /compute the CPU of each route's own loop (µs).
 * /readyz answers once the meter has its first sample. Each total also splits its requests by
 * the side of a calibration window they were charged on (window-timeline.ts): what a window
 * measured, what the calibration estimated between windows.
 */
import { Agent, get } from 'node:http';
import Router from '@koa/router';
import { Carbonscope, type OperationContext, type OperationFootprint } from 'carbonscope';
import Koa from 'koa';
import { burn } from './cpu-work.js';
import { majorGcCounter } from './major-gcs.js';
import { emptySides, type SideTotals, WindowTimeline } from './window-timeline.js';

const env = process.env;
const upstream = env.UPSTREAM_URL ?? 'http://127.0.0.1:8002';
const cpuIterations = Number(env.CPU_ITERATIONS ?? 2_000_000);
const mixedIterations = Number(env.MIXED_ITERATIONS ?? 500_000);

interface Totals {
  count: number;
  joules: number;
  provisional: number;
  sides: SideTotals;
}
const phases = new Map<string, Map<string, Totals>>();
let phase = 'start';
const windows = new WindowTimeline();
const majorGcs = majorGcCounter();

const emptyTotals = (): Totals => ({ count: 0, joules: 0, provisional: 0, sides: emptySides() });

/** A request's context: the phase and window it began in, told its settled footprint. */
function inPhase(): OperationContext {
  const mine = phase;
  const startMs = performance.now();
  const window = windows.observe(startMs, cs.tracker.measuringCpu);
  return {
    settle(f: OperationFootprint) {
      const byRoute = phases.get(mine) ?? new Map<string, Totals>();
      phases.set(mine, byRoute);
      const t = byRoute.get(f.operation) ?? emptyTotals();
      t.count++;
      t.joules += f.joules;
      if (f.provisional) t.provisional++;
      const side = t.sides[windows.sideOf(window, startMs, startMs + f.durationSeconds * 1000)];
      side.count++;
      side.joules += f.joules;
      byRoute.set(f.operation, t);
    },
  };
}

const cs: Carbonscope = await Carbonscope.create({ env, captureContext: inPhase });
await cs.start();

// node:http with a keep-alive agent: an I/O-bound route should spend little CPU on its call
// (fetch costs several times more per call on this machine).
const agent = new Agent({ keepAlive: true });

function callUpstream(ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    get(`${upstream}/?ms=${ms}`, { agent }, (res) => {
      res.resume();
      res.once('end', resolve);
      res.once('error', reject);
    }).once('error', reject);
  });
}

const router = new Router();
router.get('/cpu', (ctx) => {
  ctx.body = { h: burn(cpuIterations) };
});
router.get('/io', async (ctx) => {
  await callUpstream(50);
  ctx.body = { ok: true };
});
router.get('/mixed', async (ctx) => {
  const h = burn(mixedIterations);
  await callUpstream(20);
  ctx.body = { h };
});
router.post('/phase', (ctx) => {
  phase = String(ctx.query.name ?? 'none');
  ctx.body = { phase };
});
router.get('/stats', (ctx) => {
  const cpu = process.cpuUsage();
  ctx.body = {
    mode: cs.settings.energy.operationAttribution,
    phases: Object.fromEntries(
      [...phases].map(([name, byRoute]) => [name, Object.fromEntries(byRoute)]),
    ),
    processJoules: cs.meter.latest()?.totals.process.joules ?? 0,
    processCpuSeconds: (cpu.user + cpu.system) / 1e6,
    densities: Object.fromEntries(cs.tracker.cpuDensities()),
  };
});
// The bench's CPU clock: process.cpuUsage() counts in microseconds, where /proc/<pid>/stat
// counts in 10 ms ticks (~27 ms of CPU a second for /io at one connection).
router.get('/process-cpu', (ctx) => {
  const cpu = process.cpuUsage();
  ctx.body = { microseconds: cpu.user + cpu.system, majorGcs: majorGcs.count() };
});
// The CPU of each route's own loop, without the request around it: the least of a few runs
// (a run the machine preempted only reads longer). The loop is the same instructions wherever
// it runs, so the bench holds it fixed when it scales a route's CPU alone to the mix's.
router.get('/compute', (ctx) => {
  const least = (iterations: number) => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      burn(iterations);
      best = Math.min(best, performance.now() - t0);
    }
    return best * 1000;
  };
  ctx.body = { '/cpu': least(cpuIterations), '/io': 0, '/mixed': least(mixedIterations) };
});
router.get('/readyz', (ctx) => {
  ctx.status = cs.meter.latest() ? 200 : 503;
});

const app = new Koa();
app.use(router.routes());
const server = app.listen(Number(env.PORT ?? 0), env.HOST ?? '127.0.0.1');
cs.trackRequests({ servers: [server] });

const stop = () => {
  server.close();
  void cs.stop().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
