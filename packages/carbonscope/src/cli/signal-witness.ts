import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * How long a signal to carbonscope waits for the witness to say it got the signal too. Its
 * answer takes about a millisecond; a loaded machine may take longer, and a signal to
 * carbonscope alone reaches the command this much later.
 */
export const WITNESS_WAIT_MS = 200;

/** A report older than this belongs to no signal carbonscope is handling now. */
const REPORT_TTL_MS = 2_000;

/** How long the witness may take to set its traps before `run` does without it. */
const READY_TIMEOUT_MS = 2_000;

/**
 * A shell that traps each signal and prints its name, then waits on its stdin until carbonscope
 * closes it (or exits). `read` is a builtin, so the witness starts no process of its own, and a
 * trapped signal cuts it short: the loop reads again then, and ends on end of input only.
 */
function witnessScript(signals: readonly NodeJS.Signals[]): string {
  const traps = signals
    .map((signal) => signal.replace(/^SIG/, ''))
    .map((name) => `trap 'echo ${name}; caught=1' ${name}`);
  return [
    ...traps,
    'echo ready',
    'while :; do caught=; read -r _ && continue; [ -n "$caught" ] || exit 0; done',
  ].join('\n');
}

/**
 * Tells a signal sent to carbonscope's whole process group (a terminal's Ctrl-C, `kill -INT
 * -PGID`, a supervisor killing a cgroup) from one sent to carbonscope alone (`kill -INT PID`).
 * Node gives a handler no sender, so a witness does: a process beside the command in the same
 * group, that reports every signal it gets. A signal the witness got too reached the command
 * as well, straight from the kernel, and is not forwarded a second time.
 */
export interface SignalWitness {
  /** Whether the witness got `signal` too, waiting up to `waitMs` for it to say so. */
  sawToo(signal: NodeJS.Signals, waitMs: number): Promise<boolean>;
  /** Ends the witness (it exits when its input closes). */
  close(): void;
}

/** The witness, once its traps are set; undefined where it cannot run (no POSIX shell). */
export async function startSignalWitness(
  signals: readonly NodeJS.Signals[],
): Promise<SignalWitness | undefined> {
  if (process.platform === 'win32') return undefined;
  let shell: ChildProcess;
  try {
    shell = spawn('/bin/sh', ['-c', witnessScript(signals)], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
  const reports = new Map<NodeJS.Signals, number[]>();
  const waiters = new Set<() => void>();
  let alive = true;
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    let pending = '';
    shell.stdout?.setEncoding('utf8');
    shell.stdout?.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve(true);
          continue;
        }
        const signal = `SIG${line}` as NodeJS.Signals;
        reports.set(signal, [...(reports.get(signal) ?? []), performance.now()]);
      }
      for (const wake of waiters) wake();
    });
    const gone = () => {
      alive = false;
      clearTimeout(timer);
      resolve(false);
      for (const wake of waiters) wake();
    };
    shell.once('error', gone);
    shell.once('exit', gone);
  });
  // Never what keeps carbonscope running.
  shell.unref();
  shell.stdin?.on('error', () => undefined);
  if (!(await ready)) {
    shell.kill('SIGKILL');
    return undefined;
  }

  /** Takes the oldest fresh report of `signal`, if any. */
  const take = (signal: NodeJS.Signals): boolean => {
    const fresh = (reports.get(signal) ?? []).filter((t) => performance.now() - t < REPORT_TTL_MS);
    const found = fresh.length > 0;
    reports.set(signal, fresh.slice(1));
    return found;
  };
  return {
    sawToo(signal, waitMs) {
      if (take(signal)) return Promise.resolve(true);
      if (!alive) return Promise.resolve(false);
      return new Promise((resolve) => {
        const done = (saw: boolean) => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(saw);
        };
        const wake = () => {
          if (take(signal)) done(true);
          else if (!alive) done(false);
        };
        const timer = setTimeout(() => done(false), waitMs);
        waiters.add(wake);
      });
    },
    close() {
      shell.stdin?.end();
    },
  };
}

/** The process group of `pid` ('self' for this process); undefined where it cannot be read. */
export function processGroupOf(pid: number | 'self'): number | undefined {
  try {
    if (process.platform === 'linux') {
      // Fields after the command name, which may hold spaces: state, ppid, pgrp.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      return Number.isInteger(group) ? group : undefined;
    }
    const id = pid === 'self' ? process.pid : pid;
    const text = execFileSync('ps', ['-o', 'pgid=', '-p', String(id)], { encoding: 'utf8' });
    const group = Number(text.trim());
    return text.trim() !== '' && Number.isInteger(group) ? group : undefined;
  } catch {
    return undefined;
  }
}
