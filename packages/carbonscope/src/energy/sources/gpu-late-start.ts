import type { Logger } from '../../log.js';
import { type Probed, probeAgain } from './probe-again.js';
import type {
  EnergyReading,
  PowerSource,
  ProbeResult,
  SampleTick,
  SourceDevice,
  SourceName,
} from './source.js';

/** The first try again of a GPU source that answered at start but gave no GPU line. */
export const GPU_RETRY_FIRST_MS = 60_000;
/** Tries double apart up to this: nvidia-smi is a process start, where RAPL is a file read. */
export const GPU_RETRY_MAX_MS = 16 * 60_000;

/**
 * Whether a source is read: a GPU source names the GPUs it read, and one tried again later
 * names none until it reads them (listed as a source in use, it would say GPUs were read).
 */
export function readsGpus(source: PowerSource): boolean {
  return source.kind !== 'gpu' || !source.devices || source.devices().length > 0;
}

export interface LateGpuOptions {
  name: SourceName;
  /** Builds the GPU source afresh for each try: its probe starts what it reads. */
  make: () => PowerSource;
  logger: Logger;
  /** Time to the first try, on the ticks' clock (SampleTick.nowMs); GPU_RETRY_FIRST_MS. */
  firstRetryMs?: number;
  /** The longest time between two tries; GPU_RETRY_MAX_MS. */
  maxRetryMs?: number;
}

/**
 * A GPU source whose tool is there but gave no GPU line at start (a driver still loading,
 * nvidia-smi's first start slower than the probe waits without persistence mode) may answer
 * later: it is probed again after a minute, then at doubling intervals up to 16 minutes, and
 * from the tick after a probe succeeds, its readings are used. Until then it reads nothing and
 * names no device, so no GPU is said to be read; nothing stands in for it (no GPU estimate).
 * Its first reading covers the time since its probe's first line, which nothing counted.
 */
export function withLateGpu(o: LateGpuOptions): PowerSource {
  const { logger, name } = o;
  const maxMs = o.maxRetryMs ?? GPU_RETRY_MAX_MS;
  let waitMs = o.firstRetryMs ?? GPU_RETRY_FIRST_MS;
  let nextTryMs: number | undefined;
  let probing: PowerSource | undefined;
  let trying: Promise<void> | undefined;
  /** Probed and read, taken at the next tick. */
  let ready: Probed | undefined;
  let active: Probed | undefined;
  let closed = false;

  const attempt = () => {
    const source = o.make();
    probing = source;
    trying = probeAgain(
      source,
      () => !closed,
      (reason) => logger.debug({ source: name, reason }, `energy: ${name} still reads no GPU`),
    )
      .then((probed) => {
        if (probed) ready = probed;
      })
      .finally(() => {
        probing = undefined;
        trying = undefined;
      });
  };

  const takeReady = () => {
    if (!ready) return;
    active = ready;
    ready = undefined;
    logger.info(
      { source: name, estimated: false, detail: active.detail },
      `energy: ${name} reads GPUs now (${active.detail}); their energy is counted from here`,
    );
  };

  return {
    name,
    estimated: false,
    kind: 'gpu',
    async probe(): Promise<ProbeResult> {
      // Never the source's own probe again: for nvidia-smi that is a second child.
      return active
        ? { ok: true, detail: active.detail }
        : { ok: false, reason: `${name} reads no GPU yet` };
    },
    sample(tick: SampleTick): EnergyReading[] {
      takeReady();
      if (active) return active.source.sample(tick);
      if (nextTryMs === undefined) nextTryMs = tick.nowMs + waitMs;
      else if (tick.nowMs >= nextTryMs && !trying && !closed) {
        waitMs = Math.min(waitMs * 2, maxMs);
        nextTryMs = tick.nowMs + waitMs;
        attempt();
      }
      return [];
    },
    devices(): readonly SourceDevice[] {
      return active?.source.devices?.() ?? [];
    },
    async close(): Promise<void> {
      closed = true;
      // Its close ends a probe still waiting for a first line: the try settles at once.
      await probing?.close().catch(() => undefined);
      await trying;
      const taken = ready?.source;
      ready = undefined;
      await Promise.allSettled([active?.source.close(), taken?.close()]);
    },
  };
}
