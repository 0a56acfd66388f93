import { EnergyTracker, type OperationFootprint } from 'carbonscope';
import { sampleAt } from '#library-tests/unit/energy/scripted.js';

/**
 * The library's real operation tracker, fed one scripted sample (the meter's job in the
 * service), so the tests know what energy an operation must be given: watts × seconds while it
 * runs alone. `ended` collects every operation it reports.
 */
export function poweredTracker(
  watts: number,
  gramsPerJoule: number,
): { tracker: EnergyTracker; ended: OperationFootprint[] } {
  const clock = () => performance.now();
  const tracker = new EnergyTracker({ clock });
  tracker.update(sampleAt(clock(), watts, gramsPerJoule, true));
  const ended: OperationFootprint[] = [];
  tracker.onEnd((f) => ended.push(f));
  return { tracker, ended };
}
