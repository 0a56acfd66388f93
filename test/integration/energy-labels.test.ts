import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { Carbonscope, type EnergySnapshot } from 'carbonscope';
import { expect } from 'chai';
import Koa from 'koa';
import {
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  switchingSource,
  testConfig,
} from '#library-tests/unit/energy/scripted.js';
import { energyRoutes } from '../../src/routes/energy.js';

describe('GET /energy after the estimate handed over to a meter', () => {
  it('labels the totals by what they hold and the watts by the source in use', async () => {
    const clock = new ScriptedClock(0);
    const cpu = new ScriptedCpu();
    const { source, state } = switchingSource(10);
    const meter = await Carbonscope.create({
      settings: testConfig({ ENERGY_ATTRIBUTION: 'proportional' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 250)),
      sources: { host: source, gpus: [] },
      clock: clock.now,
      timer: new ManualTimer(),
      hostCpu: cpu.hostCpu,
      processCpu: cpu.processCpu,
    });
    await meter.start();
    // One second of the estimate (RAPL not readable yet), then one of RAPL.
    for (const measured of [false, true]) {
      state.measured = measured;
      clock.advance(1000);
      cpu.interval(1, 0.5, 0.5);
      meter.meter.sampleNow();
    }
    const app = new Koa();
    const router = new Router();
    router.use(energyRoutes(meter).routes());
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/energy`);
      const body = (await res.json()) as EnergySnapshot;
      expect(body.sources).to.deep.equal([{ name: 'rapl', kind: 'host', estimated: false }]);
      expect(body.totals.host).to.include({
        joules: 20,
        estimatedJoules: 10,
        estimated: true,
        wattsEstimated: false,
      });
      expect(body.totals.process).to.include({
        joules: 10,
        estimatedJoules: 5,
        estimated: true,
        wattsEstimated: false,
      });
    } finally {
      server.close();
      await meter.stop();
    }
  });
});
