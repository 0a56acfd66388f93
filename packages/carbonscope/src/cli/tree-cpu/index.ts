import { execFileSync } from 'node:child_process';
import { createProcTreeCpuReader } from './proc-tree-cpu.js';
import { createPsTreeCpuReader } from './ps-tree-cpu.js';
import type { TreeCpuReader } from './tree-cpu-reader.js';

export {
  type ProcFs,
  type ProcStat,
  parseProcStat,
  parseProcStatBytes,
  realProcFs,
} from './proc-stat.js';
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
export {
  TREE_CPU_LOWER_BOUND_TEXT,
  TREE_CPU_METHOD_TEXT,
  TREE_CPU_RESOLUTION_SECONDS,
  TREE_CPU_UNMEASURED_TEXT,
  type TreeCpuClock,
  type TreeCpuMethod,
  type TreeCpuReader,
  treeCpuMeasured,
} from './tree-cpu-reader.js';

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

/** The best reader for this platform: /proc, else ps, else none. */
export function createTreeCpuReader(platform: NodeJS.Platform = process.platform): TreeCpuReader {
  if (platform === 'linux' || platform === 'android') return createProcTreeCpuReader();
  if (platform === 'win32') return createUnavailableTreeCpuReader();
  try {
    execFileSync('ps', ['-o', 'pid=', '-p', String(process.pid)], { stdio: 'ignore' });
    return createPsTreeCpuReader();
  } catch {
    return createUnavailableTreeCpuReader();
  }
}
