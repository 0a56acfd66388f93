import { z } from 'zod';
import { MAX_CARBON_INTENSITY } from '../../intensity-bound.js';
import type { SharedTier } from '../cache.js';
import type { UpstreamPoint } from '../types.js';
import type { HostShare } from './host-share.js';

const point = z.object({
  zone: z.string().max(32),
  carbonIntensity: z.number().min(0).max(MAX_CARBON_INTENSITY),
  datetime: z.iso.datetime({ offset: true }),
  isEstimated: z.boolean(),
  estimationMethod: z.string().max(100).nullable(),
});
const points = z.array(point).max(1000);

/**
 * One endpoint's values in the host share, keyed by zone, each checked as it is read: a file
 * another program wrote, or an older carbonscope's, is not a value until it has the shape.
 */
export function sharedTier<V>(
  share: HostShare,
  endpoint: 'latest' | 'history',
  parse: (value: unknown, zone: string) => V | undefined,
  waitMs: number,
): SharedTier<V> {
  const key = (zone: string) => `${endpoint}-${zone}`;
  return {
    async read(zone) {
      const found = await share.read(key(zone));
      const value = found === undefined ? undefined : parse(found.value, zone);
      return value === undefined || found === undefined
        ? undefined
        : { value, fetchedAt: found.fetchedAt };
    },
    write: (zone, value, fetchedAt) => share.write(key(zone), value, fetchedAt),
    lock: (zone) => share.lock(key(zone)),
    waitFor: (zone) => share.waitFor(key(zone), waitMs),
  };
}

/** A latest value of `zone`, as the client gave it: another zone's is none. */
export function sharedPoint(value: unknown, zone: string): UpstreamPoint | undefined {
  const parsed = point.safeParse(value);
  return parsed.success && parsed.data.zone === zone ? parsed.data : undefined;
}

/** A history of `zone`, as the client gave it. */
export function sharedPoints(value: unknown, zone: string): UpstreamPoint[] | undefined {
  const parsed = points.safeParse(value);
  return parsed.success && parsed.data.every((p) => p.zone === zone) ? parsed.data : undefined;
}
