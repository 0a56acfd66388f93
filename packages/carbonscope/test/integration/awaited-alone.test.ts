import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { runToEnd } from '../helpers/spawn.js';
import { tempDir, writeFakeBinary } from '../unit/energy/sources/helpers.js';

// On a real H200, `carbonscope monitor` printed the grid line and nothing else, then exited
// with code 13: while nvidia-smi was being probed, nothing held the event loop. A script's
// `await tracker.start()` ended the same way. Here nvidia-smi is a stand-in on PATH that, like
// a driver without persistence mode, takes a moment before its first line.
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const INDEX = new URL('../../src/index.js', import.meta.url).href;

const H200_LINE = '0, GPU-d8e27244-0719-2aa8-0140-8c7d084b3152, NVIDIA H200, 77.36\n';

describe('carbonscope awaited in a process with nothing else to do (an NVIDIA GPU on PATH)', () => {
  let env: Record<string, string>;
  let cleanup: () => void;
  before(() => {
    let dir: string;
    ({ dir, cleanup } = tempDir('gpu-alone'));
    writeFakeBinary(
      dir,
      'nvidia-smi',
      `if (!args.includes('-lms')) process.exit(64);
const row = ${JSON.stringify(H200_LINE)};
setTimeout(() => { process.stdout.write(row); setInterval(() => process.stdout.write(row), Number(args[args.length - 1])); }, 300);`,
    );
    env = childEnv({
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      CARBON_INTENSITY: '300',
      CARBON_ZONE: 'DE',
      ELECTRICITY_MAPS_API_KEY: '',
    });
  });
  after(() => cleanup());

  it('monitor prints its lines and a summary with the GPU', async () => {
    const r = await runToEnd(
      process.execPath,
      [MAIN, 'monitor', '-d', '2s', '--interval', '500ms'],
      env,
    );
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}[\d.]+ W/.test(l));
    expect(lines.length, r.stderr).to.be.at.least(3);
    expect(r.stderr, r.stderr).to.match(/\n {4}gpu +[\d.]+ J +77\.\d W +nvidia-smi \(measured\)\n/);
  });

  it("a script's await tracker.start() and stop() come back", async () => {
    const script = `
import { EmissionsTracker } from ${JSON.stringify(INDEX)};
const tracker = new EmissionsTracker('job');
await tracker.start();
const c = process.cpuUsage(); for (;;) { const u = process.cpuUsage(c); if (u.user + u.system >= 2e5) break; }
const f = await tracker.stop();
console.log(JSON.stringify({ operation: f.operation, joules: f.joules }));
`;
    const r = await runToEnd(process.execPath, ['--input-type=module', '-e', script], {
      ...env,
      ENERGY_SOURCE: 'nvidia-smi',
    });
    expect(r.code, r.stderr).to.equal(0);
    const f = JSON.parse(r.stdout) as { operation: string; joules: number };
    expect(f.operation).to.equal('job');
    expect(f.joules).to.be.greaterThan(0);
  });

  it("a script's await cs.firstSample() comes back (the meter's timer holds nothing)", async () => {
    const script = `
import { start, stop } from ${JSON.stringify(INDEX)};
const cs = await start();
await cs.firstSample();
console.log(JSON.stringify({ sampled: cs.snapshot() !== null }));
await stop();
`;
    const r = await runToEnd(process.execPath, ['--input-type=module', '-e', script], {
      ...env,
      ENERGY_SOURCE: 'estimate',
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ sampled: true });
  });
});
