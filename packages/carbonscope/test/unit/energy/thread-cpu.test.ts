import { pbkdf2 } from 'node:crypto';
import { expect } from 'chai';
import { mainThreadCpuClock } from '../../../src/energy/thread-cpu.js';

const processCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// process.threadCpuUsage() is Node 24's (and 23.9's): the suite runs on Node 20 and 24.
const hasThreadUsage =
  typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';

describe("the main thread's CPU clock", () => {
  if (!hasThreadUsage) {
    // /proc/thread-self/schedstat lags a running thread by up to a scheduler tick: no clock.
    it('is none where Node has no process.threadCpuUsage(): the process clock stands in', () => {
      expect(mainThreadCpuClock()).to.equal(undefined);
    });
    return;
  }

  it("leaves out the pool's threads and counts the main thread's own work", async () => {
    const clock = mainThreadCpuClock() as () => number;
    const t0 = clock();
    const p0 = processCpuMs();
    // ~100 ms of CPU or more on the pool's threads, the main thread waiting.
    await Promise.all(
      [1, 2].map(() => new Promise((r) => pbkdf2('pw', 'salt', 200_000, 32, 'sha256', r))),
    );
    const thread = clock() - t0;
    const all = processCpuMs() - p0;
    expect(all).to.be.above(50);
    expect(thread).to.be.below(all / 2);
    // Now work on this thread: its clock moves with the process's.
    const t1 = clock();
    const p1 = processCpuMs();
    const end = performance.now() + 60;
    let spins = 0;
    while (performance.now() < end) spins++;
    expect(spins).to.be.above(0);
    expect(clock() - t1).to.be.above(0.5 * (processCpuMs() - p1));
  });
});
