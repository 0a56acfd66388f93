import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';
import { serverCpuMs } from '../../bench/attribution.bench.js';
import { type RunningServer, startServer } from '../../bench/servers.js';

describe('bench: the attribution scenario reads the server CPU finely enough', function () {
  this.timeout(30_000);
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      name: 'attribution-cpu-test',
      entry: join(projectRoot, 'dist', 'test', 'bench', 'attribution-server.js'),
      env: { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' },
    });
  });
  after(() => server.stop());

  it('resolves one small request: more than nothing, well under /proc 10 ms tick', async () => {
    // Past the start-up work (the first samples, code not yet optimized).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const steps: number[] = [];
    let last = await serverCpuMs(server);
    for (let i = 0; i < 9; i++) {
      const now = await serverCpuMs(server);
      steps.push(now - last);
      last = now;
    }
    // A step is one reading's request (and whatever the meter did meanwhile): some CPU, a few
    // milliseconds at most; /proc reads most of them as 0 and the rest as 10.
    const median = [...steps].sort((a, b) => a - b)[4] as number;
    expect(median, steps.join(', ')).to.be.above(0).and.below(5);
  });
});
