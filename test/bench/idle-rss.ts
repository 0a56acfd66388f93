import { sleep } from './load.js';
import { rssMiB } from './servers.js';

/** How long idle servers are watched, and how often read. */
export interface IdleWindow {
  windowMs: number;
  everyMs: number;
}

/**
 * Each process's idle RSS in MiB: the least of its readings every `everyMs` over `windowMs`
 * (NaN where none could be read). Some seconds after a Node process goes idle, V8's memory
 * reducer hands back ~20 MiB of its start-up heap, at a moment of its own: 8 s after start in
 * the app without carbonscope, 16 s in the carbonscope app, whose meter samples every second.
 * One reading shared by both caught them at different points of that: the same code read 1.04×
 * to 1.27× between runs.
 */
export async function settledRss(
  pids: readonly number[],
  window: IdleWindow,
  read: (pid: number) => number = rssMiB,
  wait: (ms: number) => Promise<void> = sleep,
): Promise<number[]> {
  const least = pids.map(() => Number.NaN);
  for (let waited = 0; ; waited += window.everyMs) {
    pids.forEach((pid, i) => {
      const rss = read(pid);
      if (Number.isNaN(least[i]) || rss < least[i]) least[i] = rss;
    });
    if (waited >= window.windowMs) return least;
    await wait(window.everyMs);
  }
}
