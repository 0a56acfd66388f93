// Run by bench-meter.test.ts in a process of its own: the CPU clock the meter reads (the
// process's, on Node 20) counts every thread, and mocha's process, after 25 minutes of other
// tests, had threads of its own at work while the waiter waited (0.043 J against the spinner's
// 0.069 in a CI run, where a fresh process reads a few percent).
import { performance } from 'node:perf_hooks';
import { metrics } from '@opentelemetry/api';
import type { OperationFootprint } from 'carbonscope';
import { attributionMeter } from '../../bench/bench-meter.js';

/** The process's CPU time in ms: at least what the meter reads (its main thread's, on Node 24). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A spin's bound by the wall clock: a synchronous loop is stopped by nothing else. */
const SPIN_WALL_LIMIT_MS = 30_000;

/**
 * Spins on the CPU until it has had `ms` of it, and returns the wall time that took. A spin of
 * 40 ms by the wall clock had only the CPU its turns on a loaded machine gave it, which could
 * come near what a wait's own overhead (and the other threads' CPU meanwhile) costs. Throws
 * where the CPU clock stands still (a sandbox whose getrusage does not count) rather than hang.
 */
function spinCpu(ms: number): number {
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  while (cpuMs() - cpu0 < ms) {
    if (performance.now() - wall0 > SPIN_WALL_LIMIT_MS) {
      throw new Error(`the process had ${cpuMs() - cpu0} ms of CPU in ${SPIN_WALL_LIMIT_MS} ms`);
    }
  }
  return performance.now() - wall0;
}

/** The joules of an operation that spun 40 ms of CPU and of one that waited as long off it. */
async function spunAndWaited(): Promise<{ spun: number; waited: number }> {
  const energy = await attributionMeter('exact', metrics.getMeter('bench-meter-probe'));
  try {
    const ended: OperationFootprint[] = [];
    energy.tracker.onEnd((f) => ended.push(f));
    // Compiled before the operations: V8's optimising compiler runs on a thread of its own,
    // whose CPU during `waited` would count as that operation's.
    spinCpu(5);
    energy.meter.sampleNow();
    const spun = energy.tracker.begin('spun');
    const spunWallMs = spun.run(() => spinCpu(40));
    spun.end();
    // Off the CPU for as long by the wall clock as the spin took: a meter that reads the wall
    // clock gives them the same share, however loaded the machine.
    const waited = energy.tracker.begin('waited');
    waited.run(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, spunWallMs));
    waited.end();
    await new Promise((resolve) => setTimeout(resolve, 10));
    energy.meter.sampleNow();
    const joules = (name: string) => ended.find((f) => f.operation === name)?.joules ?? 0;
    return { spun: joules('spun'), waited: joules('waited') };
  } finally {
    await energy.stop();
  }
}

process.stdout.write(`${JSON.stringify(await spunAndWaited())}\n`);
