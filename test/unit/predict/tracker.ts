import { EnergyTracker } from 'carbonscope';
import { createTestMetrics, type TestMetrics } from '#library-tests/helpers/metrics.js';

/**
 * The energy meter's real operation tracker, fed one scripted power reading (the sampler's job
 * in the service), so the tests know what energy an operation must be given: watts × seconds
 * while it runs alone.
 */
export function poweredTracker(
  watts: number,
  gramsPerJoule: number,
): { tracker: EnergyTracker; metrics: TestMetrics } {
  const metrics = createTestMetrics();
  const clock = () => performance.now();
  const tracker = new EnergyTracker({
    clock,
    energyHistogram: metrics.meter.createHistogram('operation_energy_joules', { unit: 'J' }),
    emissionsHistogram: metrics.meter.createHistogram('operation_emissions_grams', { unit: 'g' }),
  });
  tracker.update(clock(), watts, gramsPerJoule, true);
  return { tracker, metrics };
}
