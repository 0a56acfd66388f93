import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { StubElectricityMaps } from '../fixtures/grid/stub-electricity-maps.js';
import { childEnv } from '../helpers/child-env.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnUntil } from '../helpers/spawn.js';

/**
 * The package README's recipe for an application's own SDK, as a user copies it: the first
 * code block that gives carbonscope its local histograms.
 */
function recipe(): string {
  const readme = readFileSync(join(libraryRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
  const block = blocks.find((b) => b.includes('new CarbonscopeInstrumentation({ histograms })'));
  if (block === undefined) throw new Error('the README has no recipe with local histograms');
  return block;
}

const GAUGE = /^carbonscope_grid_carbon_intensity\{[^}]*carbonscope_grid_source="([^"]+)"/gm;

/** The grid intensity gauge's sources in a scrape. */
function gridSources(text: string): string[] {
  return [...text.matchAll(GAUGE)].map((m) => m[1] ?? '').sort();
}

describe("the package README's recipe for an application's own SDK, run as written", function () {
  this.timeout(60_000);
  const stub = new StubElectricityMaps('recipe-key');
  let dir: string | undefined;
  let app: Spawned | undefined;

  after(async () => {
    await app?.stop('SIGKILL');
    await stub.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves only the grid source that answers now: the fallback series leaves at recovery', async () => {
    await stub.start();
    stub.next(...Array.from({ length: 1000 }, () => ({ status: 503 })));
    // Under dist (ignored, built output): `carbonscope` and the SDK resolve as a user's would.
    dir = mkdtempSync(join(libraryRoot, 'dist', 'recipe-'));
    const file = join(dir, 'otel.mjs');
    writeFileSync(file, recipe());
    const port = await freePort();
    app = await spawnUntil(process.execPath, ['--import', file, '-e', "console.log('up')"], {
      cwd: dir,
      env: childEnv({
        CARBON_ZONE: 'DE',
        ENERGY_SOURCE: 'estimate',
        ELECTRICITY_MAPS_API_KEY: 'recipe-key',
        ELECTRICITY_MAPS_BASE_URL: stub.url,
        // The error hold-down is min(30 s, the TTL): the upstream is asked again within a second.
        GRID_CACHE_TTL_SECONDS: '1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      }),
      waitFor: /^up$/,
    });
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const until = async (sources: string[]) => {
      const deadline = performance.now() + 20_000;
      let seen: string[] = [];
      while (performance.now() < deadline) {
        seen = gridSources(await scrape().catch(() => ''));
        if (seen.includes(sources.at(-1) ?? '')) return seen;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no ${sources.join(', ')} series; saw ${seen.join(', ')}`);
    };
    expect(await until(['annual-average'])).to.deep.equal(['annual-average']);
    stub.reset(); // Electricity Maps answers again: the hour now running, live
    const recovered = await until(['electricity-maps']);
    // Without withCurrentGauges the SDK kept exporting `annual-average` beside it, at its last
    // value, and an alert on the fallback never cleared.
    expect(recovered, 'a scrape after the recovery').to.deep.equal(['electricity-maps']);
  });
});
