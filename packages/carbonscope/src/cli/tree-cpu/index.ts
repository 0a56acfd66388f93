import { execFileSync } from 'node:child_process';
import { procRefused } from '../../proc/index.js';
import type { TreeCpuReader } from '../tree-cpu-reader.js';
import { createProcTreeCpuReader } from './proc-tree-cpu.js';
import { createPsTreeCpuReader } from './ps-tree-cpu.js';

export {
  TREE_CPU_LOWER_BOUND_TEXT,
  TREE_CPU_METHOD_TEXT,
  TREE_CPU_RESOLUTION_SECONDS,
  TREE_CPU_UNMEASURED_TEXT,
  type TreeCpuClock,
  type TreeCpuMethod,
  type TreeCpuReader,
  treeCpuMeasured,
} from '../tree-cpu-reader.js';
export { createProcTreeCpuReader } from './proc-tree-cpu.js';
export {
  createPsTreeCpuReader,
  descendantsOf,
  PS_COLUMNS,
  type PsRow,
  parsePsTable,
  parsePsTime,
  treeGrowth,
} from './ps-tree-cpu.js';

/** A reader for platforms with neither: always 0, and the summary says process energy is unknown. */
export function createUnavailableTreeCpuReader(): TreeCpuReader {
  return {
    method: 'unavailable',
    setRoot() {},
    read: () => 0,
    inTree: () => false,
    leftRunning: () => 0,
  };
}

/**
 * The best reader for this platform: /proc, else ps, else none. Where Node's permission model
 * refuses /proc, none, and `warn` is told the flag: the /proc reader threw at its first read,
 * and `run` ended with no report. Not ps, though a child process is below the model: procps
 * prints whole seconds, too coarse for the share it would measure.
 */
export function createTreeCpuReader(
  platform: NodeJS.Platform = process.platform,
  warn: (message: string) => void = () => {},
): TreeCpuReader {
  if (platform === 'linux' || platform === 'android') {
    const refused = procRefused();
    if (refused === undefined) return createProcTreeCpuReader();
    warn(
      `run: ${refused}; the command's CPU time is not read: its energy is not known, only the whole machine's`,
    );
    return createUnavailableTreeCpuReader();
  }
  if (platform === 'win32') return createUnavailableTreeCpuReader();
  return psReader();
}

/** The ps reader where ps runs, else none. */
function psReader(): TreeCpuReader {
  try {
    execFileSync('ps', ['-o', 'pid=', '-p', String(process.pid)], { stdio: 'ignore' });
    return createPsTreeCpuReader();
  } catch {
    return createUnavailableTreeCpuReader();
  }
}
