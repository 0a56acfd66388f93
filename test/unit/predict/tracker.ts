import { EnergyTracker, type OperationFootprint } from 'carbonscope';
import { sampleAt } from '#library-tests/unit/energy/scripted.js';

/**
 * The library's real operation tracker, fed scripted samples (the meter's job in the service),
 * so the tests know what energy an operation must be given: watts × seconds while it runs alone
 * (wall attribution, a loop counted busy all along). `settle()` feeds the next sample, which
 * reports the operations ended since to `ended`.
 */
export function poweredTracker(
  watts: number,
  gramsPerJoule: number,
): { tracker: EnergyTracker; ended: OperationFootprint[]; settle(): void } {
  const clock = () => performance.now();
  const tracker = new EnergyTracker({ clock, attribution: 'wall' });
  let last = clock();
  tracker.update(sampleAt(last, watts, gramsPerJoule, true));
  const ended: OperationFootprint[] = [];
  tracker.onEnd((f) => ended.push(f));
  const settle = () => {
    const now = clock();
    tracker.update(sampleAt(now, (watts * (now - last)) / 1000, gramsPerJoule, true, now - last));
    last = now;
  };
  return { tracker, ended, settle };
}
