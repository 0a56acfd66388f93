import { atDeadline } from '../../deadline.js';
import type { Logger } from '../../log.js';
import { type LineChild, type LineChildOptions, spawnLineChild } from '../sources/line-child.js';
import { PmonParser } from './pmon-parser.js';
import type { PmonShares } from './pmon-shares.js';

/** nvidia-smi pmon watches at most this many GPUs per invocation (`nvidia-smi pmon -h`). */
export const PMON_MAX_DEVICES = 4;

/** One second, the shortest delay pmon takes (`-d 1..10`). */
export const PMON_ARGS = ['pmon', '-s', 'u', '-d', '1'] as const;

export interface PmonFeedOptions {
  /** `nvidia-smi` on PATH by default. */
  binary?: string;
  /** The GPUs' indexes (`--query-gpu=index`); more than 4 are watched in `-i` groups of 4. */
  gpus: readonly number[];
  /** How long pmon may take to print its header; 5 s by default. */
  startTimeoutMs?: number;
  /**
   * Says that a pmon child SIGKILL did not end was let go of, as the meter's own readers say it
   * (`run` passes its logger); without it, a Node warning does.
   */
  logger?: Logger;
  /** How the children are started and signalled (tests: a child that never ends). */
  lineChild?: LineChildOptions;
}

/** The argument lists of the pmon children that cover `gpus`: one, unless there are more than 4. */
export function pmonArgs(gpus: readonly number[]): string[][] {
  if (gpus.length <= PMON_MAX_DEVICES) return [[...PMON_ARGS]];
  const groups: string[][] = [];
  for (let i = 0; i < gpus.length; i += PMON_MAX_DEVICES) {
    const ids = gpus.slice(i, i + PMON_MAX_DEVICES).join(',');
    groups.push([...PMON_ARGS, '-i', ids]);
  }
  return groups;
}

/**
 * Runs `nvidia-smi pmon -s u -d 1` (a child per group of 4 GPUs) into `shares`, and resolves
 * once each has printed its header: then shares.begin(). A child that cannot start, ends, or
 * says a GPU is not supported makes shares.fail() with the reason in words, and every child is
 * stopped.
 */
export function feedPmon(shares: PmonShares, options: PmonFeedOptions): Promise<void> {
  const binary = options.binary ?? 'nvidia-smi';
  const timeoutMs = options.startTimeoutMs ?? 5000;
  const children: LineChild[] = [];
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
    const groups = pmonArgs(options.gpus);
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
    for (const args of groups) {
      const parser = new PmonParser();
      let headed = false;
      let firstOther = '';
      let stderr = '';
      const unsupported = (text: string) => {
        const line = text.split('\n').find((l) => /not supported/i.test(l));
        if (line === undefined) return false;
        failed(`says: ${line.trim()}`);
        settle();
        return true;
      };
      const onDetach = options.logger
        ? (pid: number) =>
            options.logger?.warn(
              { pid },
              `nvidia-smi pmon (pid ${pid}) did not end after SIGKILL (stuck in the kernel?); ` +
                'left behind, its GPU use no longer read',
            )
        : undefined;
      children.push(
        spawnLineChild(
          binary,
          args,
          {
            onDetach,
            onLine(line) {
              const row = parser.line(line);
              if (row) {
                shares.add(row);
                return;
              }
              const text = line.trim();
              if (unsupported(text)) return;
              if (!text.startsWith('#') && text && !firstOther) firstOther = text;
              if (parser.ready && !headed) {
                headed = true;
                if (--waiting === 0 && !settled) {
                  shares.begin(stopAll);
                  settle();
                }
              }
            },
            onStderr(text) {
              if (stderr.length < 500) stderr += text;
              unsupported(text);
            },
            onExit(code, signal, error) {
              if (error) {
                failed(error.code === 'ENOENT' ? 'not found' : `cannot start: ${error.message}`);
              } else {
                const said = firstOther || stderr.trim().split('\n')[0] || '';
                failed(
                  `ended (${code === null ? signal : `exit ${code}`}${said ? `: ${said}` : ''})`,
                );
              }
              settle();
            },
          },
          options.lineChild,
        ),
      );
    }
  });
}
