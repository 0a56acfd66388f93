import type { SourceName } from '../sources/index.js';

/**
 * The measured process's share of each GPU's energy, interval by interval, from what the GPU
 * says of its processes (`nvidia-smi pmon`). The sampler gives the process that share of the
 * readings of `source`; without a reader, or where it answers undefined, GPU energy stays the
 * host's only, as CPU time says nothing of GPU use.
 */
export interface GpuShareReader {
  /** The GPU source whose readings the shares are of. */
  readonly source: SourceName;
  /**
   * Ends the interval at `nowMs` (after the process's CPU time was read for it): share() then
   * answers for it. The first call sets the baseline and its interval counts for nothing.
   */
  next(nowMs: number): void;
  /** The share of `device` (`gpu0`) over the interval just ended, 0..1; undefined: not known. */
  share(device: string): number | undefined;
  /** Stops reading (the meter calls it after its last sample). */
  close(): Promise<void>;
}
