import { type ChildProcess, spawn } from 'node:child_process';
// The grace before SIGKILL is real time, under a test runner's fake timers too: on the fake
// clock a reader that ignored SIGTERM held stop() until the test moved time.
import { clearTimeout, setTimeout } from '../../real-timers.js';

/**
 * How long stop() lets a reader end on SIGTERM before SIGKILL. The real nvidia-smi (`-lms`,
 * `pmon`) acts on SIGTERM only at its next tick, up to an interval later (~700 ms measured on
 * an H200, a second at worst): that was most of what `run` added on a GPU machine, after the
 * last sample. The readers only query; what they would print after stop() is not read.
 */
export const STOP_GRACE_MS = 150;

/**
 * The longest line handed over. Every reader prints lines of a few hundred characters at most;
 * text past this without a newline is no line of theirs, and is dropped rather than held.
 */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Cuts text that comes in chunks into lines (LF or CRLF, the ending left out) for `onLine`. A
 * line over MAX_LINE_CHARS is dropped, and only its newest part is ever held.
 */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let pending = '';
  /** True while the rest of an overlong line is being skipped up to its newline. */
  let skipping = false;
  return (chunk) => {
    pending += chunk;
    let start = 0;
    let nl = pending.indexOf('\n', start);
    while (nl !== -1) {
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (!skipping && end - start <= MAX_LINE_CHARS) onLine(pending.slice(start, end));
      skipping = false;
      start = nl + 1;
      nl = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
    // A \r at the end may be half a CRLF, whose \n is in the next chunk: not the line's.
    const held = pending.length - (pending.charCodeAt(pending.length - 1) === 13 ? 1 : 0);
    if (held > MAX_LINE_CHARS) {
      pending = '';
      skipping = true;
    }
  };
}

export interface LineChild {
  readonly pid: number | undefined;
  /**
   * Ends the child (SIGTERM, then SIGKILL after `graceMs`) and resolves once it has exited, or
   * after three graces in all when even SIGKILL does not end it (then it is let go of).
   */
  stop(graceMs?: number): Promise<void>;
}

export interface LineChildHandlers {
  onLine(line: string): void;
  /** Text the child wrote to stderr, as it arrives. */
  onStderr?(text: string): void;
  /** The child ended or could not start (`error.code === 'ENOENT'` when the binary is absent). */
  onExit(code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException): void;
  /**
   * stop() gave up on a child that did not end after SIGKILL (stuck in the kernel) and let go
   * of it; a Node warning says so when this is not given.
   */
  onDetach?(pid: number): void;
}

/** How the child is started and signalled; tests hand a child that never ends. */
export interface LineChildOptions {
  spawn?: (binary: string, args: readonly string[]) => ChildProcess;
  /** Signals a process (a negative pid: its group); process.kill by default. */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

/** How a reader is started unless told otherwise: in a process group of its own. */
export const spawnDetached = (binary: string, args: readonly string[]): ChildProcess =>
  spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });

/**
 * Runs a long-lived child and hands its stdout over line by line. The child is unref'd so it
 * never keeps the process alive on its own; stop() kills it, holding the process until it ends.
 * It runs in a process group of its own: Ctrl-C signals the terminal's whole foreground group,
 * and a reader ended by it (nvidia-smi, pmon) left the measured command's clean-up unread. It
 * is ended when this process exits; a process killed outright leaves it to end at its next
 * line, on the closed pipe (SIGPIPE).
 */
export function spawnLineChild(
  binary: string,
  args: readonly string[],
  handlers: LineChildHandlers,
  options: LineChildOptions = {},
): LineChild {
  const kill = options.kill ?? ((pid, signal) => process.kill(pid, signal));
  let exited = false;
  /** True once stop() gave up on a child that would not end. */
  let detached = false;
  let exitWaiters: (() => void)[] = [];
  // A process that ends without stop() (a short script under `register` while the probe still
  // waits) must not leave it running: a reader that prints nothing (a hung driver) never meets
  // the closed pipe that would end it. Synchronous, as an exit listener must be.
  const killAtExit = () => {
    signalGroup('SIGTERM');
  };
  // The whole group (the child leads it, being detached): a reader that is a wrapper script
  // leaves the tool it started holding the pipe, which then never closed.
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  const release = () => {
    process.off('exit', killAtExit);
    for (const w of exitWaiters) w();
    exitWaiters = [];
  };
  const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
    if (exited) return;
    exited = true;
    release();
    handlers.onExit(code, signal, error as NodeJS.ErrnoException | undefined);
  };
  /**
   * Lets go of a child that outlived SIGKILL: stop() resolves, nothing holds the process for
   * it. Signals stay queued for it; should it ever end, onExit is still told.
   */
  const detach = () => {
    if (exited || detached) return;
    detached = true;
    child.unref();
    release();
    const pid = child.pid ?? 0;
    if (handlers.onDetach) handlers.onDetach(pid);
    else {
      process.emitWarning(
        `${binary} (pid ${pid}) did not end after SIGKILL (stuck in the kernel?); left behind`,
      );
    }
  };

  const child = (options.spawn ?? spawnDetached)(binary, args);
  child.on('error', (err) => finish(null, null, err));
  child.on('close', (code, signal) => finish(code, signal));
  child.unref();
  process.on('exit', killAtExit);

  // Decoded across chunks: a character cut between two reads comes whole.
  child.stdout?.setEncoding('utf8');
  child.stdout?.on(
    'data',
    lineSplitter((line) => handlers.onLine(line)),
  );
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => handlers.onStderr?.(chunk));
  // Pipes must not hold the event loop open either.
  for (const stream of [child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  return {
    get pid() {
      return child.pid;
    },
    stop(graceMs = STOP_GRACE_MS): Promise<void> {
      if (exited || detached || child.pid === undefined) return Promise.resolve();
      // Whoever awaits this needs the exit to come: hold the loop until it does, or a process
      // with nothing else to do (`monitor` at its end) ended with code 13 mid-await.
      child.ref();
      for (const stream of [child.stdout, child.stderr]) {
        (stream as unknown as { ref?: () => void } | null)?.ref?.();
      }
      return new Promise<void>((resolve) => {
        let timer = setTimeout(() => {
          if (exited) return;
          signalGroup('SIGKILL');
          // A process that left the group (setsid) may still hold the pipes: 'close' waits for
          // them, so they are let go of and the stop stays bounded.
          timer = setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            // A child SIGKILL cannot end (stuck in the kernel, D state) never closes.
            timer = setTimeout(detach, graceMs);
          }, graceMs);
        }, graceMs);
        exitWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        signalGroup('SIGTERM');
      });
    },
  };
}
