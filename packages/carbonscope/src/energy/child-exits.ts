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

/**
 * Calls `onExit` synchronously as each child started from now on exits (libuv has just reaped
 * it), with whether it meters itself. Returns the function that stops watching.
 */
export function watchChildExits(onExit: (metersItself: boolean) => void): () => void {
  const onChild = (message: unknown): void => {
    const child = (message as { process?: ChildProcess }).process;
    child?.once('exit', () =>
      onExit(
        metersItself({
          spawnfile: child.spawnfile,
          spawnargs: child.spawnargs,
          execPath: process.execPath,
          nodeOptions: process.env.NODE_OPTIONS,
        }),
      ),
    );
  };
  subscribe(CHILD_PROCESS_CHANNEL, onChild);
  return () => {
    unsubscribe(CHILD_PROCESS_CHANNEL, onChild);
  };
}
