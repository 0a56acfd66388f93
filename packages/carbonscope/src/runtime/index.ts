export {
  Carbonscope,
  type CarbonscopeOptions,
  type EarlyAnswerOptions,
  whenStopped,
} from './carbonscope.js';
export { ownedRelease, releasedWith } from './context-release.js';
export type { DropCount, DropReason } from './drop-counts.js';
export { checkOptions } from './injected.js';
export { CARBONSCOPE_OPTIONS, STARTED_OPTIONS } from './known-options.js';
