import type { Logger } from '../../log.js';
import { messageOf } from '../../thrown-text.js';
import type { EnergyReading, PowerSource, ProbeResult, SampleTick } from './source.js';

export interface HandoverOptions {
  /** The source wanted (Kepler, Scaphandre): its sample() throws when it cannot be used. */
  primary: PowerSource;
  /** What covers the intervals the primary cannot (RAPL, powermetrics or the estimate). */
  fallback: PowerSource;
  logger: Logger;
  /** The primary could not be used at start (its probe failed; the caller said why). */
  unusable?: boolean;
}

function kindOf(err: unknown): string {
  const kind = (err as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : 'error';
}

/**
 * One host source made of two: each interval's readings come from the primary when its
 * sample() gives them, and from the fallback when it throws (the exporter is unreachable, its
 * figures stale, our series missing, its counter reset). Both are sampled every tick, so the
 * fallback's counters (RAPL) never span the time the primary covered. name, estimated and
 * scope follow whichever gave the latest readings, so every series and log line is labelled
 * by the source that measured it.
 *
 * A fallback that throws costs nothing while the primary reads; when both throw, the
 * fallback's error is thrown (the interval has no reading, and whoever samples says why).
 *
 * Each hand-over and each return is logged with its reason: the first of each kind at warn
 * (the first return too, or the warning stays the last word at the default level), repeats at
 * debug, so an exporter that keeps failing the same way says so once.
 */
export function withHandover(o: HandoverOptions): PowerSource {
  const { primary, fallback, logger } = o;
  let active: PowerSource = o.unusable ? fallback : primary;
  const warned = new Set<string>();
  let resumedOnce = false;
  /** The fallback's readings of the last tick were returned (or it had none to give). */
  let fallbackUsed = true;

  const handOver = (err: unknown) => {
    const reason = messageOf(err);
    const kind = kindOf(err);
    const level = warned.has(kind) ? 'debug' : 'warn';
    warned.add(kind);
    logger[level](
      { source: primary.name, estimated: primary.estimated, fallback: fallback.name, kind, reason },
      `energy: ${primary.name} (measured) cannot be used: ${reason}; ${fallback.name}` +
        `${fallback.estimated ? ' (estimated)' : ''} covers until it can`,
    );
  };

  return {
    kind: 'host',
    get name() {
      return active.name;
    },
    get estimated() {
      return active.estimated;
    },
    get scope() {
      return active.scope ?? 'host';
    },
    async probe(): Promise<ProbeResult> {
      return active.probe();
    },
    sample(tick: SampleTick): EnergyReading[] {
      // Sampled every tick, whichever is used, so its counters never span the primary's time;
      // its failure must not cost the primary's readings of the tick.
      let covering: EnergyReading[] | undefined;
      let fallbackError: unknown;
      try {
        covering = fallback.sample(fallbackUsed ? tick : { ...tick, coveredBefore: true });
      } catch (err) {
        fallbackError = err;
      }
      try {
        const readings = primary.sample(tick);
        if (active !== primary) {
          logger[resumedOnce ? 'debug' : 'warn'](
            { source: primary.name, estimated: primary.estimated },
            `energy: ${primary.name} (measured) readings are used again`,
          );
          resumedOnce = true;
          active = primary;
        }
        fallbackUsed = covering === undefined;
        return readings;
      } catch (err) {
        if (active === primary) handOver(err);
        active = fallback;
        // Neither can say: the fallback's reason goes to whoever samples (the meter says it).
        fallbackUsed = true;
        if (covering === undefined) throw fallbackError;
        return covering;
      }
    },
    async close(): Promise<void> {
      await Promise.allSettled([primary.close(), fallback.close()]);
    },
  };
}
