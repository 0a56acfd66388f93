import { createHook } from 'node:async_hooks';

/**
 * How many timers of carbonscope's deadlines (deadline.ts) that `work` armed are still alive
 * once it settled, and the loop turned for their destroy hooks: each one left holds its
 * controller and signal until it expires.
 */
export async function deadlineTimersLeft(work: () => Promise<void>): Promise<number> {
  const live = new Set<number>();
  const hook = createHook({
    // The deadline's, not the test runner's own.
    init: (id, type) => {
      if (type === 'Timeout' && new Error().stack?.includes('deadline.js')) live.add(id);
    },
    destroy: (id) => live.delete(id),
  }).enable();
  try {
    await work();
    // Destroy hooks run in a later turn of the loop.
    for (let turn = 0; turn < 100 && live.size > 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    return live.size;
  } finally {
    hook.disable();
  }
}
