/**
 * A fixed amount of CPU work (iterations, not time, so preemption by other processes does not
 * change how much is done), shared by the attribution benchmark's routes and its blocking job.
 */
export function burn(iterations: number): number {
  let h = 0;
  for (let i = 0; i < iterations; i++) h = (Math.imul(h, 31) + i) | 0;
  return h;
}

/** Keeps the thread busy for `ms` of wall time: a job that blocks the event loop. */
export function blockFor(ms: number): number {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins += burn(1000) & 1;
  return spins;
}
