import { createHostCpuReader, type HostCpuReaderOptions } from '../../../src/energy/host-cpu.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  StubGrid,
  testConfig,
} from './scripted.js';

/**
 * A meter (the estimate, no process measured) on the real host CPU reader of 2 CPUs with
 * `reader`'s files: a 1 s interval is 200 ticks of /proc/stat, 2000 ms of os.cpus(). Started;
 * `interval()` is 1 s and a sample.
 */
export async function meterOnHostCpu(reader: HostCpuReaderOptions) {
  const clock = new ScriptedClock(10_000);
  const cs = await Carbonscope.create({
    settings: testConfig(),
    logger: memoryLogger().logger,
    grid: new StubGrid(intensityReading('DE', 400)),
    sources: { host: constantSource(10, { name: 'estimate' }), gpus: [] },
    clock: clock.now,
    timer: new ManualTimer(),
    hostCpu: createHostCpuReader({ cpus: 2, ...reader }),
    processCpu: () => 0,
  });
  await cs.start();
  const interval = () => {
    clock.advance(1000);
    cs.meter.sampleNow();
  };
  return { cs, interval };
}
