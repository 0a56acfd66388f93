import { expect } from 'chai';
import { spawnLineChild } from '../../../../src/energy/sources/line-child.js';
import { tempDir, writeFakeBinary } from './helpers.js';

describe('energy/sources/line-child', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('line-child'));
  });
  afterEach(() => cleanup());

  // On the H200, `nvidia-smi -lms 1000` and `pmon -d 1` ended ~700 ms after SIGTERM: they act
  // on it at their next tick (tools/device/exit-time.mjs, 300 ms after the first line). That was
  // most of the second `run -- true` spent beside a GPU, after the last sample had been taken.
  it('stop() does not wait for a reader that honours SIGTERM only at its next 1 s tick', async () => {
    const binary = writeFakeBinary(
      dir,
      'reader',
      `let asked = false;
process.on('SIGTERM', () => { asked = true; });
const tick = () => { if (asked) process.exit(0); process.stdout.write('line\\n'); };
tick();
setInterval(tick, 1000);`,
    );
    let first: () => void = () => undefined;
    const lined = new Promise<void>((resolve) => {
      first = resolve;
    });
    const child = spawnLineChild(binary, [], { onLine: () => first(), onExit: () => undefined });
    await lined;
    const t0 = performance.now();
    await child.stop();
    const ms = performance.now() - t0;
    // The next tick is ~1 s away; the grace before SIGKILL is what bounds it.
    expect(ms, `stop took ${ms.toFixed(0)} ms`).to.be.below(600);
  });
});
