import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { tempDirUntilExit } from './temp-dir.js';

// An empty working directory unless the caller names one: nothing of the developer's there.
const WORK_DIR = tempDirUntilExit('carbonscope-spawn-');

/** Whether process `pid` still runs (or is a zombie its parent is yet to reap). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Spawned {
  proc: ChildProcess;
  /** Every stdout line so far. */
  stdout: string[];
  stderr: string[];
  /** How the process ended: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal (unless it has exited) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function collect(stream: NodeJS.ReadableStream | null, into: string[]): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    into.push(...lines);
  });
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** The stdout line that says the process is up. */
  waitFor: RegExp;
  timeoutMs?: number;
}

/** Runs a command and waits until it prints `waitFor` on stdout (or exits, or times out). */
export async function spawnUntil(
  command: string,
  args: string[],
  options: SpawnOptions,
): Promise<Spawned> {
  const proc = spawn(command, args, {
    cwd: options.cwd ?? WORK_DIR,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collect(proc.stdout, stdout);
  collect(proc.stderr, stderr);
  const exited = once(proc, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const deadline = performance.now() + (options.timeoutMs ?? 20_000);
  while (!stdout.some((l) => options.waitFor.test(l))) {
    if (proc.exitCode !== null) {
      throw new Error(`${command} exited ${proc.exitCode}: ${stderr.join('\n')}`);
    }
    if (performance.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${command} did not start: ${stderr.join('\n')}\n${stdout.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc,
    stdout,
    stderr,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return (await exited).code;
    },
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The working directory; an empty one by default. */
  cwd?: string;
  /** A signal sent once stdout includes `after` (once: the process decides what it does next). */
  signal?: { after: string; send: NodeJS.Signals };
  /** SIGKILLs a process still up after this long (one that hangs ends its test, not the run). */
  killAfterMs?: number;
}

/** Runs a command to its end and resolves with its exit and everything it printed. */
export function runToEnd(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  options: RunOptions = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      cwd: options.cwd ?? WORK_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signal = options.signal;
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      stdout += d;
      if (signal && stdout.includes(signal.after) && proc.signalCode === null) {
        proc.kill(signal.send);
        signal = undefined;
      }
    });
    proc.stderr.on('data', (d: string) => {
      stderr += d;
    });
    const hung =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => proc.kill('SIGKILL'), options.killAfterMs);
    proc.on('error', reject);
    proc.on('close', (code, ended) => {
      clearTimeout(hung);
      resolve({ code, signal: ended, stdout, stderr });
    });
  });
}

/** A process's output as lines, the empty ones (the last newline's) left out. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
