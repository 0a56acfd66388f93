export type { GpuShareReader } from './gpu-share-reader.js';
export { MIG_QUERY_ARGS, type MigMode, parseMigModes, queryMigModes } from './mig-mode.js';
export {
  feedPmon,
  PMON_ARGS,
  PMON_MAX_DEVICES,
  type PmonFeedOptions,
  pmonArgs,
} from './pmon-feed.js';
export { PmonParser, type PmonRow } from './pmon-parser.js';
export {
  type GpuShareOutcome,
  PmonShares,
  type PmonSharesOptions,
  type UnsharedGpu,
} from './pmon-shares.js';
