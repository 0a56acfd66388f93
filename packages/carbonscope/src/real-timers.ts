import timers from 'node:timers';
import { unfaked } from './unfaked.js';

// Node's timer functions as they were when carbonscope loaded, for every timer of its own. A test
// runner's fake timers (jest.useFakeTimers(), vi.useFakeTimers(), @sinonjs/fake-timers, which
// both of those are) replace the globals, and sinon's the `node:timers` module's too, under an
// application that started carbonscope: on the fake clock its sampler re-armed itself forever,
// so `jest.runAllTimers()` threw "Aborting after running 100000 timers", measure() waited for a
// sample that came only when the test moved time, and three hours of fake time were 10,800
// samples of real CPU over fake seconds. carbonscope measures real time: its timers keep it.
// Read once here, so a fake installed later reaches none of them; one installed before
// carbonscope loaded is seen through (unfaked).
export const setTimeout = unfaked(timers.setTimeout, 'setTimeout');
export const clearTimeout = unfaked(timers.clearTimeout, 'clearTimeout');
export const setInterval = unfaked(timers.setInterval, 'setInterval');
export const clearInterval = unfaked(timers.clearInterval, 'clearInterval');
export const setImmediate = unfaked(timers.setImmediate, 'setImmediate');
export const clearImmediate = unfaked(timers.clearImmediate, 'clearImmediate');

/**
 * Resolves after `ms` of real time. Not node:timers/promises' setTimeout: @sinonjs/fake-timers
 * replaces that with a fake that keeps no record of the original (nothing for unfaked to see
 * through), and an import that read it after the fake was in place (jest's ESM registry) waited
 * on fake time.
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
