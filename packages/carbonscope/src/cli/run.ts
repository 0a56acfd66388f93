import { type ChildProcess, spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { constants } from 'node:os';
import { type GpuShareOutcome, monotonicClock, PmonShares } from '../energy/index.js';
import type { SourceDevice } from '../energy/sources/index.js';
import { isPermissionRefusal, permissionRefusal } from '../permission-refusal.js';
import { printable } from '../printable.js';
import type { Env } from '../settings.js';
import { parseRunArgs, RUN_HELP, type RunOptions } from './args.js';
import { AwakeMarks } from './awake-marks.js';
import type { Ending } from './ending.js';
import { finish } from './finish.js';
import { type LateGpuWatch, watchGpuProcesses, watchLateGpus } from './gpu-watch.js';
import { commandStdio, inheritedFds } from './inherited-fds.js';
import { missingStarter } from './missing-starter.js';
import { outputClosed } from './output.js';
import { openSession, PUSH_TIMEOUT_MS, type Session, startMeter } from './session.js';
import {
  processGroupOf,
  type SignalWitness,
  startSignalWitness,
  WITNESS_WAIT_MS,
} from './signal-witness.js';
import { STOP_SIGNALS } from './stop-signals.js';
import {
  createTreeCpuReader,
  TREE_CPU_LOWER_BOUND_TEXT,
  TREE_CPU_METHOD_TEXT,
  TREE_CPU_RESOLUTION_SECONDS,
  TREE_CPU_UNMEASURED_TEXT,
  type TreeCpuReader,
  treeCpuMeasured,
} from './tree-cpu/index.js';
import { openWindow } from './window.js';

/** The shell convention for a process killed by signal N: exit status 128 + N. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/**
 * Signals whose default action ends a process with no core dump: carbonscope ends by them as its
 * command did. The others (SIGQUIT, SIGSEGV...) would dump carbonscope's core, SIGUSR1 would
 * start Node's inspector: for those it exits 128+N, as `time` and `npx` do.
 */
const RAISED_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set<NodeJS.Signals>([
  'SIGHUP',
  'SIGINT',
  'SIGKILL',
  'SIGTERM',
  'SIGALRM',
  'SIGUSR2',
  'SIGPIPE',
  'SIGVTALRM',
  'SIGPROF',
]);

/** How `run` ends for a command that ended so. */
export function endingOf(code: number | null, signal: NodeJS.Signals | null): Ending {
  const exitCode = exitCodeOf(code, signal);
  return code === null && signal !== null && RAISED_SIGNALS.has(signal)
    ? { code: exitCode, signal }
    : { code: exitCode };
}

export type Ended =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'error'; error: NodeJS.ErrnoException };

/**
 * How the command ended, told after the I/O of the loop turn its exit was seen in (setImmediate):
 * the meter's last sample follows, and where carbonscope was stopped or its loop blocked, an exit
 * handled first took it before the lines nvidia-smi (or powermetrics) printed meanwhile were read
 * from the pipe: the GPU silent (a "hung driver"), the stop's energy left out. An `error` ends it
 * only for a command that never started (no pid): a started one's is a signal it could not be
 * sent (EPERM, a setuid command), told to `late`, and the command runs on to its exit.
 */
export function waitForEnd(
  child: EventEmitter & { readonly pid?: number | undefined },
  late?: (error: NodeJS.ErrnoException) => void,
): Promise<Ended> {
  return new Promise((resolve) => {
    const afterIo = (ended: Ended) => setImmediate(() => resolve(ended));
    const onError = (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return late?.(error);
      child.off('error', onError);
      afterIo({ kind: 'error', error });
    };
    child.on('error', onError);
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) =>
      afterIo({ kind: 'exit', code, signal }),
    );
  });
}

/** How often run marks its loop as running, and the wait past which it did not run. */
const AWAKE_TICK_MS = 250;
const AWAKE_GAP_MS = 1500;

/**
 * Marks the loop as running until the command's end is seen: then, where carbonscope had not
 * run for a while just before, the time since it last did, in seconds from the spawn.
 */
function watchAwake(spawnedMs: number): { endedWithin: () => [number, number] | undefined } {
  const marks = new AwakeMarks(spawnedMs, AWAKE_GAP_MS);
  const timer = setInterval(() => marks.tick(monotonicClock()), AWAKE_TICK_MS);
  timer.unref();
  return {
    endedWithin: () => {
      clearInterval(timer);
      const nowMs = monotonicClock();
      const since = marks.unseenSince(nowMs);
      if (since === undefined) return undefined;
      return [(since - spawnedMs) / 1000, (nowMs - spawnedMs) / 1000];
    },
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The exec's errors that Node throws from spawn (only EACCES, EAGAIN, EMFILE, ENFILE and ENOENT
 * come as the `error` event), in words: each was a crash's line, `error: Error: spawn ELOOP`,
 * exit 1, where a shell says why and exits 126.
 */
const SPAWN_THROWN: ReadonlyMap<string, string> = new Map([
  ['ELOOP', 'too many levels of symbolic links (ELOOP)'],
  ['ENOTDIR', 'a part of its path is no folder (ENOTDIR)'],
  ['ENAMETOOLONG', 'its name is too long (ENAMETOOLONG)'],
  ['E2BIG', 'its arguments and environment are too long (E2BIG)'],
]);

function isSpawnThrown(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && (err as NodeJS.ErrnoException).syscall === 'spawn';
}

/**
 * The command, started. Node's permission model refuses a child process by a throw, not by the
 * `error` event a missing binary gives: it ends as that does, said in one line (it was a crash,
 * `carbonscope: error: Error: Access to this API has been restricted`, exit 1). So do the exec's
 * errors Node throws (SPAWN_THROWN).
 */
function startCommand(
  file: string,
  rest: readonly string[],
  inherited: readonly number[],
): { child?: ChildProcess; ended: Promise<Ended> } {
  let child: ChildProcess;
  try {
    child = spawn(file, rest, { stdio: commandStdio(inherited), env: process.env });
  } catch (err) {
    if (!isPermissionRefusal(err) && !isSpawnThrown(err)) throw err;
    return { ended: Promise.resolve({ kind: 'error', error: err as NodeJS.ErrnoException }) };
  }
  const late = (error: NodeJS.ErrnoException) =>
    process.stderr.write(
      `carbonscope: could not signal the command: ${printable(error.message)}\n`,
    );
  return { child, ended: waitForEnd(child, late) };
}

/** Why the command could not start, with the shell's exit status for it. */
function startFailure(
  command: string,
  error: NodeJS.ErrnoException,
): { code: number; message: string } {
  if (error.code === 'ENOENT') {
    // 127 as a shell's, which says `bad interpreter` where a script's #! names no file.
    const missing = missingStarter(command, process.env.PATH);
    const message = missing ? `cannot run ${command}: ${missing}` : `command not found: ${command}`;
    return { code: 127, message };
  }
  const refused = permissionRefusal(error);
  if (refused) return { code: 126, message: `cannot run ${command}: ${refused}` };
  // execvp says EACCES for a folder too, as for a file without its x bit. A bare name is looked
  // up in PATH, not here.
  if (error.code === 'EACCES' && command.includes('/') && isFolder(command)) {
    return { code: 126, message: `cannot run ${command}: it is a folder` };
  }
  if (error.code === 'EACCES') return { code: 126, message: `permission denied: ${command}` };
  const thrown = SPAWN_THROWN.get(error.code ?? '') ?? error.message;
  return { code: 126, message: `cannot run ${command}: ${thrown}` };
}

/**
 * The tree's CPU time as the meter reads it, and whether the latest reading measures anything:
 * more than one step of the reader's clock (never, where it reads nothing).
 */
function measuredCpu(tree: TreeCpuReader): { read: () => number; measured: () => boolean } {
  let seconds = 0;
  const method = tree.method;
  return {
    read: () => {
      seconds = tree.read();
      return seconds;
    },
    measured: () =>
      method !== 'unavailable' && treeCpuMeasured(seconds, TREE_CPU_RESOLUTION_SECONDS[method]),
  };
}

/**
 * A daemon the command started (a double fork, `setsid` in a subshell) or a child it left behind
 * runs on outside the tree: the figures would otherwise pass for the whole of its work.
 */
function leftRunningNote(count: number): string | undefined {
  if (!(count > 0)) return undefined;
  const [which, its] = count === 1 ? ['1 process', 'its'] : [`${count} processes`, 'their'];
  return `${which} left the command's process tree still running (orphaned or daemonized): ${its} CPU time from then on is not counted, and run did not wait for ${count === 1 ? 'it' : 'them'}`;
}

/**
 * Passes each forwarded signal carbonscope gets on to the command, once: not when the witness
 * got it too (it went to the whole process group, the command included, as Ctrl-C does), unless
 * the command has left the group. Stays until carbonscope exits: once the command has ended, a
 * signal (a second Ctrl-C) is let go, where Node's default would end carbonscope before its
 * figures are written and with another status than the command's.
 */
function relaySignals(child: ChildProcess, witness: SignalWitness | undefined): void {
  const ownGroup = processGroupOf('self');
  const inOwnGroup = () => {
    const its = child.pid === undefined ? undefined : processGroupOf(child.pid);
    // Unknown: as spawned, in ours.
    return ownGroup === undefined || its === undefined || its === ownGroup;
  };
  const relay = async (signal: NodeJS.Signals) => {
    const sawToo = witness ? await witness.sawToo(signal, WITNESS_WAIT_MS) : false;
    if (sawToo && inOwnGroup()) return;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const forward = (signal: NodeJS.Signals) => void relay(signal);
  for (const signal of STOP_SIGNALS) process.on(signal, forward);
}

/** The GPUs the meter's nvidia-smi reads now; none before a late start reads them. */
function smiGpus(session: Session): readonly SourceDevice[] {
  const smi = session.meter.meter.sources.gpus.find((source) => source.name === 'nvidia-smi');
  return smi?.devices?.() ?? [];
}

/** The indexes of the GPUs the meter's nvidia-smi reads now (`gpu3`: 3). */
function smiGpuIndexes(session: Session): number[] {
  return smiGpus(session).map((gpu) => Number(gpu.device.slice('gpu'.length)));
}

/**
 * Starts pmon on the GPUs nvidia-smi reads at the start, or, where it reads none yet (tried again
 * later, gpu-late-start.ts), on those it reads once it does (the watch returned).
 */
async function watchGpus(session: Session, shares: PmonShares): Promise<LateGpuWatch | undefined> {
  const start = (gpus: readonly number[]) =>
    watchGpuProcesses(gpus, shares, { logger: session.logger });
  const gpus = smiGpuIndexes(session);
  if (gpus.length > 0) {
    await start(gpus);
    return undefined;
  }
  const lateSource = session.meter.meter.sources.gpus.some((s) => s.name === 'nvidia-smi');
  if (!lateSource) return undefined;
  return watchLateGpus({
    gpus: () => smiGpuIndexes(session),
    start,
    failed: (reason) => shares.fail(reason),
  });
}

/** Whether the meter's nvidia-smi read GPUs at the start and at the end, and when pmon answered. */
export interface GpusRead {
  atStart: boolean;
  now: boolean;
  /**
   * Whether run looked for them to start pmon once read (watchGpus): not where it has no tree
   * to share by, and starts no pmon.
   */
  watched: boolean;
  /** Where read late: seconds from the command's spawn to the share's start (pmon's header). */
  pmonAfterS?: number;
}

/**
 * pmon's outcome; where nvidia-smi read its GPUs only after the start (gpu-late-start.ts) and run
 * looked for them, it says from when the share was read, or why it never was: a note without a
 * reason read as a failure to find.
 */
export function gpuShareOutcome(
  outcome: GpuShareOutcome | undefined,
  gpusRead: GpusRead,
): GpuShareOutcome | undefined {
  if (gpusRead.atStart || !gpusRead.now || !gpusRead.watched) return outcome;
  if (outcome === undefined) {
    return {
      read: false,
      fallback:
        'nvidia-smi read its GPUs only after the start, and the command ended before pmon, ' +
        'which tells the share, could be started',
    };
  }
  if (!outcome.read || gpusRead.pmonAfterS === undefined) return outcome;
  const late =
    'nvidia-smi read its GPUs only after the start: pmon, which tells the share, was started ' +
    `then (${gpusRead.pmonAfterS.toFixed(1)} s in); their energy before is in the host figures only`;
  // A pmon that ended later says so after: the share covers the time between.
  return { ...outcome, fallback: outcome.fallback ? `${late}; ${outcome.fallback}` : late };
}

/**
 * Seconds from the command's spawn to the share's start, where it started: the run's other
 * times count from the spawn (its window opens then), not from when run began to look.
 */
function pmonAfter(shares: PmonShares, spawnedMs: number): { pmonAfterS?: number } {
  const began = shares.beganAtMs();
  return began === undefined ? {} : { pmonAfterS: Math.max(0, began - spawnedMs) / 1000 };
}

function withGpuShare(
  shares: PmonShares,
  gpusRead: GpusRead,
): {
  gpuShare?: GpuShareOutcome;
  gpuUtilizationPercent?: number;
} {
  const outcome = gpuShareOutcome(shares.outcome(), gpusRead);
  const utilization = shares.utilizationPercent();
  return {
    ...(outcome ? { gpuShare: outcome } : {}),
    ...(utilization === undefined ? {} : { gpuUtilizationPercent: utilization }),
  };
}

/** What tests change of a run (none of it a setting). */
export interface RunHooks {
  /**
   * Time to the first try again of an nvidia-smi that read no GPU at start (a minute,
   * GPU_RETRY_FIRST_MS): less, so that a test's GPU read late is read within seconds.
   */
  gpuRetryFirstMs?: number;
}

/** `carbonscope run`: returns how the process is to end. */
export async function runCommand(
  args: string[],
  env: Env = process.env,
  hooks: RunHooks = {},
): Promise<Ending> {
  const options = parseRunArgs(args);
  if (options.help) {
    process.stdout.write(RUN_HELP);
    return { code: 0 };
  }
  // Read before the witness opens its pipe, which would pass for one given to carbonscope.
  const inherited = inheritedFds();
  // Started before the measured window: its traps set before the command can get a signal.
  const witness = await startSignalWitness(STOP_SIGNALS);
  try {
    return await runMeasured(options, args, env, { witness, inherited }, hooks);
  } finally {
    // Only now: ended sooner, it would be reaped into our cutime before the last tree read.
    witness?.close();
  }
}

/** What run takes from its own process for the command. */
interface Inheritance {
  witness: SignalWitness | undefined;
  /** The fds past stderr that carbonscope was given, for the command. */
  inherited: readonly number[];
}

async function runMeasured(
  options: RunOptions,
  args: string[],
  env: Env,
  { witness, inherited }: Inheritance,
  hooks: RunHooks,
): Promise<Ending> {
  // Nothing to stop when nobody reads the summary: the command runs on, its exit code stands.
  void outputClosed();
  const [file, ...rest] = options.command;
  const told: string[] = [];
  const tree = createTreeCpuReader(process.platform, (message) => told.push(message));
  const cpu = measuredCpu(tree);
  const gpuShares = new PmonShares({
    isCommand: (pid) => tree.inTree(pid),
    clock: monotonicClock,
  });
  const session = await openSession({
    options,
    args,
    env,
    processCpu: cpu.read,
    processMeasured: cpu.measured,
    gpuShares,
    ...(hooks.gpuRetryFirstMs === undefined
      ? {}
      : { select: { gpuRetryFirstMs: hooks.gpuRetryFirstMs } }),
  });
  for (const message of told) session.logger.warn(message);
  // run prints nothing before its summary that would show `--interval 500` as 500 s.
  if (options.intervalNote) session.logger.warn(options.intervalNote);
  const gpusAtStart = smiGpus(session).length > 0;
  // Without a tree to look pmon's pids up in, no share: pmon is not started.
  const lateGpus = tree.method === 'unavailable' ? undefined : await watchGpus(session, gpuShares);
  await startMeter(session.meter);

  const measured = openWindow(session);
  const spawnedMs = monotonicClock();
  const { child, ended } = startCommand(file, rest, inherited);
  const awake = watchAwake(spawnedMs);
  if (child?.pid !== undefined) tree.setRoot(child.pid);
  if (child) relaySignals(child, witness);

  const end = await ended;
  const endedWithin = awake.endedWithin();
  lateGpus?.stop();
  // The command is reaped by now, so its CPU time is final (what is left of its tree is orphaned).
  const method = tree.method;
  const report = await measured.close(
    {
      command: 'run',
      argv: options.command,
      projectName: options.projectName,
      cpuTime: TREE_CPU_METHOD_TEXT[method],
      processEnergyKnown: method !== 'unavailable',
      ...(method === 'unavailable'
        ? {}
        : {
            processCpu: {
              seconds: cpu.read(),
              resolutionSeconds: TREE_CPU_RESOLUTION_SECONDS[method],
              unmeasured: TREE_CPU_UNMEASURED_TEXT[method],
              lowerBound: TREE_CPU_LOWER_BOUND_TEXT[method],
            },
          }),
    },
    // After the meter's last sample: a pmon failure or a pid of the tree it finds counts.
    () =>
      withGpuShare(gpuShares, {
        atStart: gpusAtStart,
        now: smiGpus(session).length > 0,
        watched: lateGpus !== undefined,
        ...pmonAfter(gpuShares, spawnedMs),
      }),
  );

  if (end.kind === 'error') {
    const failure = startFailure(file, end.error);
    process.stderr.write(session.redact(`carbonscope: ${printable(failure.message)}\n`));
    // A session whose command never ran is pushed no further: its figures are no run's.
    const discarded = await session.discard();
    if (discarded === 'pushed') {
      session.logger.warn(
        `the metrics pushed to ${session.otlpTarget} while the command was being started cover no command (run id ${session.runId})`,
      );
    }
    if (discarded === 'unanswered') {
      session.logger.warn(
        `a push to ${session.otlpTarget} while the command was being started had no answer within ${PUSH_TIMEOUT_MS / 1000} s: if it got through, its metrics cover no command (run id ${session.runId})`,
      );
    }
    return { code: failure.code };
  }

  const ending = endingOf(end.code, end.signal);
  report.exit = {
    code: end.code,
    signal: end.signal,
    exitCode: ending.code,
    ...(endedWithin ? { endedWithinSeconds: endedWithin } : {}),
  };
  if (method !== 'unavailable') {
    const count = tree.leftRunning();
    report.measurement.commandProcessesLeftRunning = count;
    const left = leftRunningNote(count);
    if (left) report.measurement.notes.push(left);
  }
  if (session.otlpTarget !== undefined && !cpu.measured()) {
    // The last push leaves them out as the earlier ones did (cpu.measured), rather than a 0:
    // a measured GPU share with an unmeasured CPU part too.
    const why = report.energy.known ? 'its CPU part not measured' : 'not measured';
    report.measurement.notes.push(
      `the command's energy and emissions are not pushed to ${session.otlpTarget} (${why}), only the host's`,
    );
  }
  await finish(report, options, session);
  return ending;
}
