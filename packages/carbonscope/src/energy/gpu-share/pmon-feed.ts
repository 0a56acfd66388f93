import { atDeadline } from '../../deadline.js';
import { PmonChild, type PmonChildOptions, type PmonGroup } from './pmon-child.js';
import type { PmonShares } from './pmon-shares.js';

/** nvidia-smi pmon watches at most this many GPUs per invocation (`nvidia-smi pmon -h`). */
export const PMON_MAX_DEVICES = 4;

/** One second, the shortest delay pmon takes (`-d 1..10`). */
export const PMON_ARGS = ['pmon', '-s', 'u', '-d', '1'] as const;

export interface PmonFeedOptions extends PmonChildOptions {
  /** The GPUs' indexes (`--query-gpu=index`); more than 4 are watched in `-i` groups of 4. */
  gpus: readonly number[];
  /** How long pmon may take to print its header; 5 s by default. */
  startTimeoutMs?: number;
}

/** The argument lists of the pmon children that cover `gpus`: one, unless there are more than 4. */
export function pmonArgs(gpus: readonly number[]): string[][] {
  return pmonGroups(gpus).map((g) => g.args);
}

/** The pmon children that cover `gpus`: one, unless there are more than 4. */
export function pmonGroups(gpus: readonly number[]): PmonGroup[] {
  if (gpus.length <= PMON_MAX_DEVICES) return [{ args: [...PMON_ARGS], gpus }];
  const groups: PmonGroup[] = [];
  for (let i = 0; i < gpus.length; i += PMON_MAX_DEVICES) {
    const some = gpus.slice(i, i + PMON_MAX_DEVICES);
    groups.push({ args: [...PMON_ARGS, '-i', some.join(',')], gpus: some });
  }
  return groups;
}

/**
 * Runs `nvidia-smi pmon -s u -d 1` (a child per group of 4 GPUs) into `shares`, and resolves
 * once each has printed its header: then shares.begin(). A child that cannot start, ends before
 * that, or says a GPU is not supported makes shares.fail() with the reason in words, and every
 * child is stopped. One that ends once shares are read is started again after a back-off (as the
 * meter's nvidia-smi is): its GPUs' share is unknown until it prints its header again.
 */
export function feedPmon(shares: PmonShares, options: PmonFeedOptions): Promise<void> {
  const timeoutMs = options.startTimeoutMs ?? 5000;
  const children: PmonChild[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(children.map((c) => c.stop()));
  };
  const failed = (reason: string) => {
    if (stopping) return;
    shares.fail(`nvidia-smi pmon ${reason}`);
    void stopAll();
  };
  return new Promise<void>((resolve) => {
    const groups = pmonGroups(options.gpus);
    let waiting = groups.length;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      cancelTimer();
      resolve();
    };
    // After the output that came meanwhile (atDeadline): a start stopped past the timeout
    // (SIGSTOP, `docker pause`) had pmon's header in the pipe, unread.
    const cancelTimer = atDeadline(timeoutMs, () => {
      failed(`printed no header within ${timeoutMs} ms`);
      settle();
    });
    // Held, as a source's probe timer is: run awaits this with its children unref'd.
    for (const group of groups) {
      children.push(
        new PmonChild(group, shares, options, {
          headed() {
            if (--waiting === 0 && !settled) {
              shares.begin(stopAll);
              settle();
            }
          },
          failed(reason) {
            failed(reason);
            settle();
          },
          // Only once every child has answered, and not after the stop: then it restarts.
          restarts: () => settled && !stopping,
        }),
      );
    }
  });
}
