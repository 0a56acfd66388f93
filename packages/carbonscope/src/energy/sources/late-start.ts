import type { Logger } from '../../log.js';
import { withHandover } from './handover.js';
import { type Probed, probeAgain } from './probe-again.js';
import type { EnergyReading, PowerSource, ProbeResult, SampleTick } from './source.js';

/** How often a measured source that could not be read at start is tried again. */
export const LATE_START_RETRY_MS = 60_000;

export interface LateStartOptions {
  /** Builds the measured source afresh for each try: its probe reads what is there now. */
  make: () => PowerSource;
  /** What is used until it reads (the labelled estimate), and covers its gaps after. */
  fallback: PowerSource;
  logger: Logger;
  /** Time between tries, on the ticks' clock (SampleTick.nowMs); LATE_START_RETRY_MS. */
  retryMs?: number;
}

/**
 * A measured source this process may not read at start (RAPL's root-only energy_uj) can be
 * made readable while it runs (`chmod a+r`, a udev rule applied later): it is probed again
 * every `retryMs` while the fallback is used, and from the tick after a probe succeeds, used
 * with the fallback covering its gaps (handover.ts). Its probe reads the counters' baseline,
 * so its first reading covers the time since that try, which the fallback did not.
 *
 * A try is a few small file reads a minute, and is said at debug level only: the start-up
 * warning said why and that it would look again; the switch is said once, at info.
 */
export function withLateStart(o: LateStartOptions): PowerSource {
  const { fallback, logger } = o;
  const retryMs = o.retryMs ?? LATE_START_RETRY_MS;
  let nextTryMs: number | undefined;
  let trying: Promise<void> | undefined;
  /** Probed and ready, taken at the next tick. */
  let ready: Probed | undefined;
  let active: PowerSource | undefined;
  let closed = false;

  const attempt = () => {
    const source = o.make();
    trying = probeAgain(
      source,
      () => !closed,
      (reason) =>
        logger.debug(
          { source: source.name, reason },
          `energy: ${source.name} still cannot be read`,
        ),
    )
      .then((probed) => {
        if (probed) ready = probed;
      })
      .finally(() => {
        trying = undefined;
      });
  };

  const takeReady = () => {
    if (!ready) return;
    const { source, detail } = ready;
    ready = undefined;
    active = withHandover({ primary: source, fallback, logger });
    logger.info(
      { source: source.name, estimated: source.estimated, detail },
      `energy: ${source.name} can be read now (${detail}); its measured readings replace the ` +
        `${fallback.name}`,
    );
  };

  return {
    kind: 'host',
    get name() {
      return (active ?? fallback).name;
    },
    get estimated() {
      return (active ?? fallback).estimated;
    },
    get scope() {
      return (active ?? fallback).scope ?? 'host';
    },
    probe(): Promise<ProbeResult> {
      return (active ?? fallback).probe();
    },
    sample(tick: SampleTick): EnergyReading[] {
      takeReady();
      if (active) return active.sample(tick);
      if (nextTryMs === undefined) nextTryMs = tick.nowMs + retryMs;
      else if (tick.nowMs >= nextTryMs && !trying) {
        nextTryMs = tick.nowMs + retryMs;
        attempt();
      }
      return fallback.sample(tick);
    },
    async close(): Promise<void> {
      closed = true;
      await trying;
      const taken = ready?.source;
      ready = undefined;
      await Promise.allSettled([active ? active.close() : fallback.close(), taken?.close()]);
    },
  };
}
