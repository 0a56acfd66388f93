import type { ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { basename } from 'node:path';

/**
 * Node's channel for each child process that `spawn`, `exec`, `execFile` and `fork` start
 * (Node 20 and 24; `spawnSync` and its kin publish nothing), published in the spawning call.
 */
const CHILD_PROCESS_CHANNEL = 'child_process';

/** Names the register entry points in an argument or in NODE_OPTIONS. */
const REGISTER = /\bcarbonscope\/register\b/;
const NODE_BINARY = /^node(js)?(\d+)?(\.exe)?$/i;

/** What tells whether a child meters itself: what it ran, and the environment it likely got. */
export interface ChildFacts {
  spawnfile: string | null | undefined;
  spawnargs: readonly string[] | undefined;
  /** This process's executable (a `fork` runs it). */
  execPath: string;
  /** This process's NODE_OPTIONS, which a child inherits unless given another environment. */
  nodeOptions: string | undefined;
}

/**
 * A Node child that loads register (its arguments name it, as `fork` passes on this process's
 * `--import carbonscope/register`, or it inherits NODE_OPTIONS naming it): it measures itself,
 * under its own instance ("Node children"). One started through a shell (`exec('node x.js')`)
 * is not told apart: its CPU counts here too.
 */
export function metersItself(facts: ChildFacts): boolean {
  const file = facts.spawnfile;
  if (!file || (file !== facts.execPath && !NODE_BINARY.test(basename(file)))) return false;
  if (facts.spawnargs?.some((arg) => REGISTER.test(arg))) return true;
  return REGISTER.test(facts.nodeOptions ?? '');
}

/** A child the watch saw start: its pid once spawned, and whether it meters itself. */
export interface WatchedChild {
  pid(): number | undefined;
  metersItself(): boolean;
  /** Reaped: its exit code or signal is set, whether or not its exit was told. */
  ended(): boolean;
}

/** What a watch tells: a child started, and (synchronously, just reaped) that it exited. */
export interface ChildEvents {
  started(child: WatchedChild): void;
  exited(child: WatchedChild): void;
}

function watched(child: ChildProcess): WatchedChild {
  let meters: boolean | undefined;
  return {
    pid: () => child.pid,
    // Set as libuv reaps it, before 'exit' is emitted: true even where an application removed
    // every 'exit' listener, the watch's among them.
    ended: () => child.exitCode !== null || child.signalCode !== null,
    // Read once spawned (the channel publishes before spawnfile and spawnargs are set), then
    // kept: it is asked of every running child at every sample.
    metersItself: () => {
      if (meters !== undefined) return meters;
      const facts = {
        spawnfile: child.spawnfile,
        spawnargs: child.spawnargs,
        execPath: process.execPath,
        nodeOptions: process.env.NODE_OPTIONS,
      };
      if (child.spawnfile === undefined) return metersItself(facts);
      meters = metersItself(facts);
      return meters;
    },
  };
}

/**
 * Tells `events` of each child started from now on, and of its exit as it happens (libuv has
 * just reaped it; the 'exit' listener added here is its first). Returns the stop.
 */
export function watchChildExits(events: ChildEvents): () => void {
  const onChild = (message: unknown): void => {
    const child = (message as { process?: ChildProcess }).process;
    if (!child) return;
    const one = watched(child);
    events.started(one);
    child.once('exit', () => events.exited(one));
  };
  subscribe(CHILD_PROCESS_CHANNEL, onChild);
  return () => {
    unsubscribe(CHILD_PROCESS_CHANNEL, onChild);
  };
}
