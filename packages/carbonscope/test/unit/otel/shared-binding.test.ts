import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { bindMetricsOnce } from '../../../src/otel/shared-binding.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { memoryLogger, testConfig } from '../energy/scripted.js';

describe('bindMetricsOnce', () => {
  // The logger writes `carbonscope: warning: ` before each line: the line began with its own
  // `carbonscope: ` too, as no other warning does.
  it('tells the second binder once, in a line that names carbonscope once', async () => {
    const { logger, lines } = memoryLogger();
    const cs = await Carbonscope.create({
      settings: testConfig({ ENERGY_SOURCE: 'estimate' }),
      logger,
    });
    const provider = new MeterProvider();
    const first = bindMetricsOnce(provider, cs, {}, 'register', logger);
    const second = bindMetricsOnce(provider, cs, {}, 'CarbonscopeInstrumentation', logger);
    const third = bindMetricsOnce(provider, cs, {}, 'CarbonscopeInstrumentation', logger);
    try {
      const told = lines.filter((l) => l.level === 40).map((l) => l.msg);
      expect(told).to.deep.equal([
        "CarbonscopeInstrumentation was bound to the meter provider register already records to; each operation is recorded once, by register's binding with its options. Use one of the two",
      ]);
    } finally {
      third();
      second();
      first();
      await provider.shutdown();
    }
  });
});
