/**
 * `fn` as Node made it, where a test runner's fake timers replaced it before carbonscope loaded
 * (jest's `fakeTimers: { enableGlobally: true }`, a vi.useFakeTimers() in a setup file).
 * Those of jest, Vitest and sinon are @sinonjs/fake-timers, which hangs its clock on each fake as
 * `clock` and keeps the method it replaced there as `_<name>`: a faked `process.hrtime` stood
 * still, and measure() waited for time to pass on it. Anything else is `fn` itself.
 */
export function unfaked<F extends (...args: never[]) => unknown>(fn: F, name: string): F {
  const clock = (fn as { clock?: Record<string, unknown> }).clock;
  const original = typeof clock === 'object' && clock !== null ? clock[`_${name}`] : undefined;
  return typeof original === 'function' && original !== fn ? (original as F) : fn;
}
