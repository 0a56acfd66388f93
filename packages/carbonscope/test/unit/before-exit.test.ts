import { expect } from 'chai';

type BeforeExitModule = typeof import('../../src/before-exit.js');

/** before-exit.js loaded afresh, as a test runner loads carbonscope again for each test file. */
async function loadedAfresh(copy: number): Promise<BeforeExitModule> {
  const url = new URL('../../src/before-exit.js', import.meta.url);
  return (await import(`${url.href}?copy=${copy}`)) as BeforeExitModule;
}

// Vitest's vmThreads loads carbonscope once per test file, in one process: each copy watched the
// loop's end on its own.
describe('the loop end watch, under one copy of carbonscope per test file', () => {
  it('is one for the process: 14 copies add one beforeExit listener and no warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const copies: BeforeExitModule[] = [];
    try {
      (await loadedAfresh(0)).watchLoopEnd();
      const listeners = process.listenerCount('beforeExit');
      const emit = process.emit;
      for (let copy = 1; copy <= 14; copy++) {
        const module = await loadedAfresh(copy);
        module.watchLoopEnd();
        copies.push(module);
      }
      // Before: 14 more, and a MaxListenersExceededWarning at the 11th.
      expect(process.listenerCount('beforeExit')).to.equal(listeners);
      expect(process.emit).to.equal(emit);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).to.not.include('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("a hold one copy asks for is asked at the loop's end another copy watches", async () => {
    const first = await loadedAfresh(100);
    const second = await loadedAfresh(101);
    first.watchLoopEnd();
    let asked = 0;
    const off = second.holdAtLoopEnd(() => {
      asked++;
      return true;
    });
    try {
      // What Node does as the loop runs empty; held, it is passed to no listener.
      expect(process.emit('beforeExit', 0)).to.equal(false);
      expect(asked).to.equal(1);
    } finally {
      off();
    }
  });
});
