import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { node24 } from '../helpers/node24.js';
import { runToEnd } from '../helpers/spawn.js';

const INDEX = new URL('../../src/index.js', import.meta.url).href;

// Two loops run side by side, each step under `track()`: one awaits scrypt on libuv's pool, the
// other burns about as much CPU on the main thread. Each job's CPU is first read alone
// (process.cpuUsage()); side by side, each should get energy in about that ratio. Before the
// main thread's own clock, the pool's CPU went to the job on the main thread: the scrypt job
// read 0.01-0.02 of its share in exact, 0.04-0.09 in calibrated (on this 2-vCPU machine).
const SCRIPT = `
import { scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { Carbonscope } from ${JSON.stringify(INDEX)};
const derive = promisify(scrypt);
// A fixed amount of the main thread's CPU, whatever code V8 runs it with: a loop of fixed length
// sped up 3-8x in some runs as a faster tier of it landed after the alone reading, and the spec
// then read the pool job 2.5-5.4x over its share (3 runs in 38, 4.6 in one CI run).
const spin = (ms) => { const t = process.threadCpuUsage(); let h = 0; for (;;) { for (let i = 0; i < 1e4; i++) h = (Math.imul(h, 31) + i) | 0; const d = process.threadCpuUsage(t); if ((d.user + d.system) / 1000 >= ms) return h; } };
const tick = () => new Promise((r) => setImmediate(r));
const pool = async (run = (name, fn) => fn()) => {
  for (let i = 0; i < 8; i++) await run('pool', () => derive('pw', 'salt', 64, { N: 2 ** 14 }));
};
let chunkMs = 1;
const js = async (run = (name, fn) => fn()) => {
  for (let i = 0; i < 32; i++) { await run('js', async () => spin(chunkMs)); await tick(); }
};
const cpuOf = async (fn) => { const c = process.cpuUsage(); await fn(); const d = process.cpuUsage(c); return (d.user + d.system) / 1000; };
// Warm first: the first, cold scrypt loop read 20-25 % above what it used side by side.
await pool();
const poolMs = await cpuOf(pool);
// The main-thread job sized to the pool job's CPU alone.
chunkMs = poolMs / 32;
const jsMs = await cpuOf(js);
const cs = await Carbonscope.create({ env: process.env });
await cs.start();
const joules = { pool: 0, js: 0 };
cs.tracker.onEnd((f) => { joules[f.operation] += f.joules; });
const run = (name, fn) => cs.tracker.track(name, fn);
for (let k = 0; k < 6; k++) await Promise.all([pool(run), js(run)]);
await cs.stop();
console.log(JSON.stringify({ poolMs, jsMs, joules }));
`;

/**
 * A Node with process.threadCpuUsage(), the main thread's own clock (Node 24): this one, else the
 * Node 24 tools/test-setup.sh caches. Node 20 has none (/proc/thread-self/schedstat lags a
 * running thread by up to a tick), and there the pool's CPU goes where it went before.
 */
function nodeWithThreadClock(): string {
  if (typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function') {
    return process.execPath;
  }
  return node24();
}

describe('libuv pool CPU goes to the operation that sent the work (real scrypt, real Node)', () => {
  for (const mode of ['exact', 'calibrated'] as const) {
    it(`a scrypt job beside a JavaScript job of like CPU gets its CPU's share (${mode})`, async () => {
      const r = await runToEnd(
        nodeWithThreadClock(),
        ['--input-type=module', '-e', SCRIPT],
        childEnv({
          ENERGY_OPERATION_ATTRIBUTION: mode,
          ENERGY_SOURCE: 'estimate',
          // A window every fourth interval: the loops are measured side by side.
          ENERGY_CALIBRATION_INTERVAL_MS: '1000',
          ENERGY_SAMPLE_INTERVAL_MS: '250',
          CARBON_INTENSITY: '300',
          CARBON_ZONE: 'DE',
          ELECTRICITY_MAPS_API_KEY: '',
        }),
      );
      expect(r.code, r.stderr).to.equal(0);
      const line = r.stdout.trim().split('\n').pop() ?? '';
      const { poolMs, jsMs, joules } = JSON.parse(line) as {
        poolMs: number;
        jsMs: number;
        joules: { pool: number; js: number };
      };
      expect(joules.js, line).to.be.above(0);
      const ofCpu = joules.pool / joules.js / (poolMs / jsMs);
      // Generous: the machine is shared, a job's time out counts its queue wait, and a
      // calibrated run of ~2 s has few windows (0.93-1.03 exact, 0.26-0.92 calibrated here,
      // under load); before, 0.01-0.09.
      const [least, most] = mode === 'exact' ? [0.5, 2] : [0.2, 3];
      expect(ofCpu, line).to.be.within(least, most);
    });
  }
});
