import { AsyncLocalStorage } from 'node:async_hooks';
import { scrypt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { CallbackCpu, type CpuAccount } from '../../../src/energy/callback-cpu.js';
import { countPoolInits } from './pool-inits.js';

const clocks = {
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
  mainThread: false,
  wall: () => performance.now(),
  loopIdle: () => performance.eventLoopUtilization().idle,
};

function account(): CpuAccount {
  return { busyMs: 0, callbacks: 0, takeovers: 0, poolMs: 0, ended: false, closed: false };
}

const AWAITS = 100;
async function awaits(): Promise<void> {
  for (let i = 0; i < AWAITS; i++) await null;
}

describe('callback CPU clock', () => {
  it("counts each operation's callbacks and takeovers: what the hooks cost it is told apart", async () => {
    const cpu = new CallbackCpu(clocks, true);
    cpu.start();
    // The hooks' own cost is timed in rounds over the immediates after start(): wait for it.
    const probe = { ...account(), callbacks: 1 };
    for (let i = 0; i < 200 && cpu.hookCostOf(probe) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const a = account();
    const b = account();
    try {
      await Promise.all([cpu.run(a, awaits), cpu.run(b, awaits)]);
    } finally {
      cpu.stop();
    }
    // Each await resumes in a callback of its operation, taking over from the other's.
    for (const x of [a, b]) {
      expect(x.callbacks).to.be.within(AWAITS, AWAITS + 2);
      expect(x.takeovers).to.be.within(AWAITS - 1, AWAITS + 3);
      // Hooks on cost something per callback: a window's figure is then net of it.
      expect(cpu.hookCostOf(x)).to.be.above(0);
    }
    expect(cpu.hookCostOf(account())).to.equal(0);
  });

  it('leaves the hooks off when stopped while it times them', async () => {
    const cpu = new CallbackCpu(clocks, true);
    let calls = 0;
    const spied = cpu as unknown as { before: () => void };
    const before = spied.before.bind(cpu);
    spied.before = () => {
      calls++;
      before();
    };
    cpu.start();
    cpu.stop(); // before the timing, which runs in the microtasks and immediates after start()
    await new Promise((resolve) => setTimeout(resolve, 200));
    calls = 0;
    await awaits();
    expect(calls).to.equal(0);
  });

  it("never turns a stopped window's storage back on while it times the hooks", async () => {
    // An enabled AsyncLocalStorage (Node 20) keeps an init hook on: every promise and tick of
    // the process pays for it. The cost rounds run the window's storage, and run() turns a
    // disabled storage back on, so a stop that lands inside a round must end the timing.
    const enabled = new Map<AsyncLocalStorage<unknown>, boolean>();
    const proto = AsyncLocalStorage.prototype as AsyncLocalStorage<unknown>;
    const { run, disable } = proto;
    const cpu = new CallbackCpu(clocks, true);
    let runs = 0;
    proto.run = function (this: AsyncLocalStorage<unknown>, ...args: Parameters<typeof run>) {
      enabled.set(this, true);
      // The second run() is the first round's with the hooks on: stop from a microtask in it.
      if (++runs === 2) queueMicrotask(() => cpu.stop());
      return run.apply(this, args);
    } as typeof run;
    proto.disable = function (this: AsyncLocalStorage<unknown>) {
      enabled.set(this, false);
      return disable.call(this);
    };
    let leftOn: AsyncLocalStorage<unknown>[] = [];
    try {
      cpu.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      proto.run = run;
      proto.disable = disable;
      cpu.stop();
      leftOn = [...enabled].filter(([, on]) => on).map(([storage]) => storage);
      // A failure must not leave the hook on for the tests after this one.
      for (const storage of leftOn) storage.disable();
    }
    // The timing ended at the stop: no storage run after it, and none left on.
    expect(runs).to.equal(2);
    expect(enabled.size).to.equal(1);
    expect(leftOn).to.have.length(0);
  });

  it('measures no cost of its own unless asked (exact charges what the hooks cost)', async () => {
    const cpu = new CallbackCpu(clocks);
    cpu.start();
    const a = account();
    try {
      await cpu.run(a, awaits);
    } finally {
      cpu.stop();
    }
    expect(a.callbacks).to.be.within(AWAITS, AWAITS + 2);
    expect(cpu.hookCostOf(a)).to.equal(0);
  });

  // The process's clock (Node 20) has the pool's CPU in the callbacks' readings already: the
  // pool's init hook cost every async resource of the process something, for nothing.
  it("follows the work out on libuv's pool only where its CPU clock is the main thread's", async () => {
    const inits = countPoolInits();
    // An operation that awaits a scrypt: what the init hook saw, and its time out on the pool.
    const followed = async (mainThread: boolean) => {
      inits.count = 0;
      const cpu = new CallbackCpu({ ...clocks, mainThread });
      cpu.start();
      const a = account();
      try {
        await cpu.run(a, () => new Promise((r) => scrypt('pw', 'salt', 64, { N: 2 ** 14 }, r)));
      } finally {
        cpu.stop();
      }
      return { inits: inits.count, poolMs: a.poolMs };
    };
    let processClock: Awaited<ReturnType<typeof followed>>;
    let threadClock: typeof processClock;
    try {
      processClock = await followed(false);
      threadClock = await followed(true);
    } finally {
      inits.restore();
    }
    expect(processClock).to.deep.equal({ inits: 0, poolMs: 0 });
    expect(threadClock.inits).to.be.above(0);
    expect(threadClock.poolMs).to.be.above(0);
  });
});
