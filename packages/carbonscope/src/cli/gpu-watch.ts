import { feedPmon, type PmonShares, queryMigModes } from '../energy/index.js';
import type { Logger } from '../log.js';
import { messageOf } from '../thrown-text.js';

/** How long the one MIG mode query may take: pmon's own start is given 5 s. */
const MIG_QUERY_TIMEOUT_MS = 5000;

export interface GpuWatchOptions {
  /** `nvidia-smi` on PATH by default. */
  binary?: string;
  logger?: Logger;
}

/**
 * Starts nvidia-smi pmon on `gpus` into `shares`, so the command gets the share of their energy
 * its processes used; the meter stops it. Meanwhile asks once which GPUs are in MIG mode, where
 * pmon reads no utilization, so the report can say why a GPU got no share. Resolves once pmon
 * answers or failed, and the query answered.
 */
export async function watchGpuProcesses(
  gpus: readonly number[],
  shares: PmonShares,
  o: GpuWatchOptions = {},
): Promise<void> {
  const binary = o.binary ?? 'nvidia-smi';
  const [mig] = await Promise.all([
    queryMigModes(binary, MIG_QUERY_TIMEOUT_MS),
    feedPmon(shares, { gpus, binary, ...(o.logger ? { logger: o.logger } : {}) }),
  ]);
  shares.watch(gpus, mig);
}

export interface LateGpuWatchOptions {
  /** The GPUs the meter's nvidia-smi reads now (none until its late start reads them). */
  gpus: () => readonly number[];
  /** Starts pmon on them (watchGpuProcesses); resolves once it answered or failed. */
  start: (gpus: readonly number[]) => Promise<void>;
  /**
   * Told why, where the start threw rather than resolved (spawn() throws some errors): the
   * shares' fail(), so the report says it. Unawaited, a rejection would end carbonscope.
   */
  failed: (reason: string) => void;
  /** How often to look; 1 s, the meter's default interval. */
  everyMs?: number;
}

/** When the share started is the shares' (PmonShares.beganAtMs): pmon's header, not this. */
export interface LateGpuWatch {
  /** Stops looking (a start under way goes on: the shares' close stops what it starts). */
  stop(): void;
}

/**
 * Where nvidia-smi read no GPU at the start but may later (gpu-late-start.ts), looks for its GPUs
 * every `everyMs` and, once it reads some, starts pmon on them as at the start: the command gets
 * its share of them from pmon's first sample on. Only once: a late source reads all its GPUs
 * from its one successful probe on.
 */
export function watchLateGpus(o: LateGpuWatchOptions): LateGpuWatch {
  const timer = setInterval(() => {
    const gpus = o.gpus();
    if (gpus.length === 0) return;
    clearInterval(timer);
    o.start(gpus).catch((err: unknown) => {
      const message = messageOf(err);
      o.failed(`nvidia-smi pmon cannot start: ${message}`);
    });
  }, o.everyMs ?? 1000);
  // The command's end ends the run, not this.
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
