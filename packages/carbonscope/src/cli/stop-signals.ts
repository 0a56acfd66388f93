import { constants } from 'node:os';
import { endProcess } from './ending.js';

/**
 * The signals that ask the CLI to stop: Ctrl-C, a `kill`, the terminal closing, Ctrl-\ (SIGQUIT)
 * and SIGUSR2, whose defaults in Node end it with nothing printed (SIGQUIT dumping its core).
 * `monitor` takes them to end with its summary; `run` passes them on to its command, whose stop
 * it is (carbonscope ends as the command does); every command, once it has answered, takes them
 * to stop waiting on a reader that does not read (drained.ts). SIGUSR1 is left to Node, which
 * starts its inspector on it: the CLI goes on.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR2',
];

/** The stop signals `monitor` takes in place of Node's default, which ends it with nothing printed. */
export interface StopSignals {
  /** Settles on the first. */
  stopped: Promise<void>;
  /**
   * Says its window is open: from then on a later signal is let go, so that a second Ctrl-C while
   * the summary and row are written does not lose them (and the last push).
   */
  started(): void;
}

/**
 * Takes each of `signals` from now on. Installed before `monitor` loads its modules (about 0.3 s),
 * so a Ctrl-C while it starts ends it with its summary as a later one does. A second one before
 * it has started ends it at once, by that signal: a start held by a probe (a hung nvidia-smi, 3
 * intervals + 2 s) would otherwise take every Ctrl-C, and nothing is measured yet to lose.
 */
export function takeStopSignals(signals: readonly NodeJS.Signals[]): StopSignals {
  let isStarted = false;
  let stopping = false;
  let resolve: () => void = () => undefined;
  const stopped = new Promise<void>((settle) => {
    resolve = settle;
  });
  for (const signal of signals) {
    process.on(signal, () => {
      if (stopping && !isStarted) endProcess({ code: 128 + constants.signals[signal], signal });
      stopping = true;
      resolve();
    });
  }
  return {
    stopped,
    started: () => {
      isStarted = true;
    },
  };
}
