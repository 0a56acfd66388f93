export {
  EMBODIED_PROFILE_FIGURES,
  EMBODIED_PROFILES,
  type EmbodiedProfile,
  type EmbodiedProfileFigures,
  type EmbodiedSettings,
  embodiedGramsPerSecond,
  SECONDS_PER_YEAR,
} from '../embodied.js';
export { gramsPerJoule, JOULES_PER_KWH } from '../emissions.js';
export { USER_HZ } from '../proc/index.js';
export { type AttributionMode, processShare } from './attribution.js';
export {
  type ChildEvents,
  type ChildFacts,
  metersItself,
  type WatchedChild,
  watchChildExits,
} from './child-exits.js';
export {
  ChildrenCpu,
  type ChildrenCpuOptions,
  type ChildWatch,
  MAX_CHARGED_CHILDREN,
  READS_PER_SAMPLE,
  type StatReader,
} from './children-cpu.js';
export { childrenCpuRefused } from './children-refused.js';
export { type EarlyBaseline, readEarlyBaseline } from './early-baseline.js';
export * from './gpu-share/index.js';
export { createHostCpuReader } from './host-cpu.js';
export {
  grpcFacts,
  type HttpFactsByScheme,
  httpEndChecker,
  internedHttpFacts,
  KNOWN_HTTP_METHODS,
  OTHER_HTTP_METHOD,
} from './http-facts.js';
export {
  EnergyMeter,
  type EnergyMeterOptions,
  FIRST_SAMPLE_MS,
  type MeterSources,
} from './meter.js';
export {
  bootClock,
  type ChildCpuAccount,
  type ChildCpuReader,
  type Clock,
  eventLoopIdle,
  type HostCpuReader,
  monotonicClock,
  NO_PROCESS_CPU,
  ownProcessCpu,
  ownProcessCpuMs,
  type ProcessCpuReader,
} from './probes.js';
export { MAX_PLAUSIBLE_WATTS } from './sampler.js';
export { type SciParts, type SciScore, sciOf } from './sci.js';
export { type EnergySnapshot, type OperationScore, snapshotOf } from './snapshot.js';
export * from './sources/index.js';
export { mainThreadCpuClock } from './thread-cpu.js';
export { type Timer, type TimerHandle, unrefTimer } from './timer.js';
export {
  close,
  measureWith,
  passedThrough,
  tooDeepToTrack,
  trackWith,
  untracked,
} from './track.js';
export { type OperationClass, TrackedOperation } from './tracked-operation.js';
export {
  DEFAULT_CALIBRATION_INTERVAL_MS,
  DEFAULT_MAX_OPERATION_AGE_MS,
  EnergyTracker,
  MAX_REQUESTS_ENDED_EARLY,
  MAX_RUNNING,
  MAX_UNSETTLED,
  MIN_CALIBRATION_GAP_MS,
  type TrackerOptions,
} from './tracker.js';
export type * from './types.js';
