import { expect } from 'chai';
import type { SampleTick } from '../../../src/energy/index.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { createTestMetrics } from '../../helpers/metrics.js';
import {
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  ScriptedSource,
  StubGrid,
  testConfig,
} from '../energy/scripted.js';

/**
 * A 100 W package whose energy counter moves in whole-millisecond steps, as RAPL's does (it
 * updates about every 976 µs): over a fraction of a millisecond it reads 0 J or a whole step.
 */
function steppedRapl(watts: number): ScriptedSource {
  return new ScriptedSource('rapl', 'host', false, (t: SampleTick) => {
    const steps = Math.floor(t.nowMs) - Math.floor(t.nowMs - t.elapsedMs);
    return [{ component: 'package', device: 'package-0', joules: (watts * steps) / 1000, watts }];
  });
}

describe('a collection that samples right after the last sample', () => {
  it('shows power and emission rates over a span a meter can read, with every joule counted', async () => {
    const clock = new ScriptedClock(10_000);
    const cpu = new ScriptedCpu();
    const metrics = createTestMetrics();
    const cs = await Carbonscope.create({
      settings: testConfig({ ENERGY_ATTRIBUTION: 'proportional' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 360)),
      sources: { host: steppedRapl(100), gpus: [] },
      clock: clock.now,
      timer: new ManualTimer(),
      hostCpu: cpu.hostCpu,
      processCpu: cpu.processCpu,
    });
    // As the instrumentation and register's join bind: the collection settles what waits.
    bindMetrics(metrics.meter, cs, { settleAtCollection: true });
    await cs.start();
    const rapl = { carbonscope_power_source: 'rapl', carbonscope_estimated: 'false' };
    const pkg = { hw_type: 'cpu', hw_id: 'package', ...rapl };
    try {
      // A periodic sample ends a second at 0.9 ms past a counter step.
      clock.advance(1000.9);
      cpu.interval(1.0009, 0.5, 0.5);
      cs.meter.sampleNow();
      expect(await metrics.value('hw_power_watts', pkg)).to.be.closeTo(100, 0.2);
      // An operation ends; a scrape 0.2 ms later samples across the next step (0.1 J).
      cs.track('job', () => 1);
      clock.advance(0.2);
      cpu.interval(0.0002, 0.5, 0.0001);
      const text = await metrics.scrape();
      expect(cs.meter.latest()?.elapsedMs, 'the collection sampled').to.be.closeTo(0.2, 1e-9);
      const value = async (name: string, labels: Record<string, string>) =>
        metrics.value(name, labels);
      // Every step the counter took is there: 1001 of them, 0.1 J each.
      expect(await value('hw_energy_joules_total', pkg)).to.be.closeTo(100.1, 1e-9);
      expect(text).to.include('hw_power_watts');
      // The package draws 100 W: 0.1 J over 0.2 ms (500 W) is the counter's step, not its power.
      expect(await value('hw_power_watts', pkg)).to.be.closeTo(100, 0.2);
      expect(await value('hw_host_power_watts', rapl)).to.be.closeTo(100, 0.2);
      // The process's half of it, and the grams per second 100 W make at 360 g/kWh.
      expect(await value('carbonscope_process_power_watts', pkg)).to.be.closeTo(50, 0.5);
      const rate = await value('carbonscope_emission_rate_grams_per_second', {
        carbonscope_scope: 'host',
        carbonscope_phase: 'usage',
        carbonscope_grid_zone: 'DE',
        carbonscope_estimated: 'false',
      });
      expect(rate).to.be.closeTo(0.01, 0.0001);
    } finally {
      await cs.stop();
      await metrics.shutdown();
    }
  });
});
