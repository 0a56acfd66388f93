import { type ExposedSample, parseSamples } from './metrics.js';

/**
 * Scrapes `url` every 100 ms until `done` holds for its samples (a failed scrape has none), or
 * throws after `ms` with the last ones; resolves with them.
 */
export async function scrapeUntil(
  url: string,
  done: (samples: ExposedSample[]) => boolean,
  ms: number,
): Promise<ExposedSample[]> {
  const deadline = performance.now() + ms;
  let samples: ExposedSample[] = [];
  while (performance.now() < deadline) {
    const text = await fetch(url).then(
      (res) => res.text(),
      () => '',
    );
    samples = parseSamples(text);
    if (done(samples)) return samples;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no scrape as awaited within ${ms} ms; the last: ${JSON.stringify(samples)}`);
}
