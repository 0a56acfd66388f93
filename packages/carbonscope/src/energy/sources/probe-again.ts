import { messageOf } from '../../thrown-text.js';
import type { PowerSource, ProbeResult } from './source.js';

/** A source that answered a later try, and what its probe said it reads. */
export interface Probed {
  source: PowerSource;
  detail: string;
}

/**
 * One later try of a source built afresh (late-start.ts, gpu-late-start.ts): the source where its
 * probe succeeds and `keep()` still holds (its wrapper not closed meanwhile); else undefined, the
 * source closed, and `refused` told why where the probe said no.
 */
export async function probeAgain(
  source: PowerSource,
  keep: () => boolean,
  refused: (reason: string) => void,
): Promise<Probed | undefined> {
  const result = await source.probe().catch(
    (err: unknown): ProbeResult => ({
      ok: false,
      reason: messageOf(err),
    }),
  );
  if (result.ok && keep()) return { source, detail: result.detail };
  if (!result.ok) refused(result.reason);
  await source.close().catch(() => undefined);
  return undefined;
}
