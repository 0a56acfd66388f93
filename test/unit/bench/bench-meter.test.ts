import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const PROBE = fileURLToPath(new URL('./bench-meter-probe.js', import.meta.url));

describe("bench: meter.bench's `exact` meter reads the CPU clock a user's meter reads", () => {
  // In a process of its own (bench-meter-probe.ts): mocha's, late in the suite, had other
  // threads at work while the waiter waited, which the process's CPU clock counts.
  it('charges an operation that waited off the CPU in its callback far less than one that spun as long', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [PROBE], { timeout: 60_000 });
    const { spun, waited } = JSON.parse(stdout) as { spun: number; waited: number };
    expect(spun).to.be.above(0);
    // By the wall clock (a scripted one) both were 40 ms of "CPU": the same share.
    expect(waited).to.be.below(spun / 4);
  });
});
