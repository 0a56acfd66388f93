import { performance } from 'node:perf_hooks';
import type { HostCpuDelta } from './sources/index.js';

export { bootClock, type Clock, monotonicClock } from '../clocks.js';

/**
 * Cumulative CPU seconds (user + system) of whatever the meter attributes energy to. The service
 * measures itself; the CLI passes a reader that sums a child process tree. A reader may go down
 * (a child exits and its time leaves the sum): the meter treats a decrease as no time spent.
 */
export type ProcessCpuReader = () => number;

/** Cumulative CPU seconds of the process's children (ChildrenCpu); closed at stop. */
export interface ChildCpuReader {
  seconds(): number;
  close(): void;
}

/**
 * Where a child's CPU is charged: the operation current in the call that spawned it (its
 * OperationCpu, made while CPU is measured: `exact`, a calibration window). ChildrenCpu adds to
 * childMs as it reads the child; the tracker prices it at each sample. Closed once the
 * operation is settled: it takes nothing more.
 */
export interface ChildCpuAccount {
  childMs: number;
  readonly closed: boolean;
}

/**
 * Host CPU time since the previous call that returned (the first call sets the baseline). A call
 * that throws leaves its interval unread (the process's CPU time stands in as the host's busy
 * floor), and the next call that returns is counted as covering all the time since the last one
 * that did (EnergySample.hostCpuReadMs; its busy share, the average over them): keep the
 * baseline across a throw, as createHostCpuReader keeps its own across a failed read. A reader
 * that moves it on a throw has its next delta counted over the whole gap all the same.
 */
export type HostCpuReader = () => HostCpuDelta;

/**
 * Milliseconds the event loop has waited for I/O (idle) since it started: monotonicClock less
 * this grows only while the loop is busy. Node keeps the figure for eventLoopUtilization().
 */
export const eventLoopIdle = (): number => performance.nodeTiming.idleTime;

/** This process's CPU milliseconds (all threads), for the tracker's per-operation CPU. */
export const ownProcessCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * The reader of a meter that measures no process, the machine as a whole (`carbonscope
 * monitor`): 0 always. The sampler tells it by identity, so that where the host's CPU time is
 * unread its warning says what stands in (an idle host), not a measured process that is none.
 */
export const NO_PROCESS_CPU: ProcessCpuReader = () => 0;

/** This process's own CPU time: all threads, libuv pool and onnxruntime's threads included. */
export const ownProcessCpu: ProcessCpuReader = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
