import type { OPERATION_ATTRIBUTION_MODES } from '../settings.js';

/**
 * Whether V8's CPU profiler runs from the start: `--cpu-prof` (or `--cpu_prof`) on the command
 * line or in NODE_OPTIONS (Node 22 and later allow it there), the command line read after it and
 * the last word standing, `--no-cpu-prof` too, as Node reads them. Not `--prof`: libuv blocks its
 * SIGPROF while it polls, and a 500 ms timer read 0-1 ms busy under it against 463-470 ms under
 * `--cpu-prof` (2026-12-06, Node 20.20.2 and 24.22.3).
 */
export function cpuProfiling(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  // Node parses NODE_OPTIONS' double quotes away (Node 24: `"--cpu-prof"` profiles).
  const fromEnv = (nodeOptions ?? '').replaceAll('"', '').split(/\s+/);
  let on = false;
  for (const word of [...fromEnv, ...execArgv]) {
    const flag = flagName(word);
    if (flag === '--cpu-prof') on = true;
    else if (flag === '--no-cpu-prof') on = false;
  }
  return on;
}

/**
 * A word's flag name as Node matches it: `_` read as `-`, and a value after `=` dropped, which a
 * switch ignores (`--cpu-prof=false` profiles, `--no-cpu-prof=true` does not; Node 20 and 24).
 */
function flagName(word: string): string {
  const equals = word.indexOf('=');
  return (equals === -1 ? word : word.slice(0, equals)).replaceAll('_', '-');
}

/**
 * Kept on `process`: the profiler is the process's, and so is the warning. Register's instance
 * and one the application makes (or a second copy of the package, a dependency's) each warned.
 */
const TOLD = Symbol.for('carbonscope.cpu-prof-warned.v1');

/**
 * Marks the warning given in this process: called once its line was handed to the logger. Marked
 * as the text was built, a first instance whose logger threw on it silenced every later one.
 */
export function profilerWarningGiven(): void {
  if (Object.hasOwn(process, TOLD)) return;
  // Not enumerable: the application's `{ ...process }` or Object.assign copies none of it.
  Object.defineProperty(process, TOLD, { value: true });
}

/**
 * The warning due at start where the CPU profiler runs: its SIGPROF ends libuv's waits, which then
 * read as busy, so per-request figures are skewed in every method. In `wall` too: the operations'
 * part is the loop's busy time while they ran there as well (test/bench/signal-waits.mjs,
 * 2026-12-06, Node 20.20.2, two rounds: 0.47 for 0.31-0.32 of the CPU, `/wait` 78-90 mJ for 21-24
 * without the profiler; `calibrated` 0.43-0.49). Read once, as an instance is made: nothing per
 * request. Undefined once given in the process (profilerWarningGiven).
 */
export function profilerWarning(
  attribution: (typeof OPERATION_ATTRIBUTION_MODES)[number],
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string | undefined {
  if (!cpuProfiling(execArgv, nodeOptions)) return undefined;
  if (Object.hasOwn(process, TOLD)) return undefined;
  return `energy: --cpu-prof is on: its signal (every 1 ms by default) ends the event loop's waits, which then read as busy, so the operations (ENERGY_OPERATION_ATTRIBUTION=${attribution}) read up to about twice their CPU's part of the energy, a request that only waits as if it computed (the process's total holds); profile in another run than the one you measure (README: "Waits that a signal ends")`;
}
