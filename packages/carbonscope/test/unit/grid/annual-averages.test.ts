import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { averageIntensity } from '@tgwf/co2/data';
import electricityMapsYearly from '@tgwf/co2/data/electricity-maps';
import { expect } from 'chai';
import { annualAverage, WORLD_AVERAGE } from '../../../src/grid/annual-averages.js';
import { libraryRoot } from '../../../src/paths.js';

describe('grid: annual averages', () => {
  const newestYear = Object.keys(electricityMapsYearly).sort().at(-1) ?? '';

  it('uses the zone’s own Electricity Maps yearly average, newest year first', () => {
    const expected = electricityMapsYearly[newestYear].data['US-CAL-CISO'].carbonIntensity.value;
    const avg = annualAverage('US-CAL-CISO');
    expect(avg?.carbonIntensity).to.equal(expected);
    expect(avg?.source).to.equal('annual-average');
    expect(avg?.basis).to.include('US-CAL-CISO').and.include(newestYear.replace(/\D/g, ''));
  });

  it('gives a bare country code its Ember average via alpha-2 → alpha-3 when no zone has one', () => {
    // RU has no zone in the Electricity Maps yearly data; Ember has the country.
    const avg = annualAverage('RU');
    expect(avg?.carbonIntensity).to.equal(averageIntensity.data.RUS);
    expect(avg?.basis).to.include('RUS');
  });

  it('knows nothing of a sub-zone the Electricity Maps list does not have', () => {
    expect(annualAverage('DE-NOTAZONE')).to.equal(undefined);
    expect(annualAverage('GB-XYZ')).to.equal(undefined);
  });

  it('gives the world average for a real country without data', () => {
    const avg = annualAverage('AQ');
    expect(avg?.source).to.equal('world-average');
    expect(avg?.carbonIntensity).to.equal(WORLD_AVERAGE);
    expect(WORLD_AVERAGE).to.equal(averageIntensity.data.WORLD);
  });

  it('knows nothing of a zone whose prefix is no country', () => {
    expect(annualAverage('ZZ')).to.equal(undefined);
    expect(annualAverage('QQ-1')).to.equal(undefined);
  });

  // The package's main entry registers its 78 locales' country names (~20 ms and 1.5 MB of heap
  // at start-up, 900 KiB of a bundle); the codes need none of them.
  it('loads no country-name locale when the library is imported', async () => {
    const index = JSON.stringify(join(libraryRoot, 'dist/src/index.js'));
    const script = `import { createRequire } from 'node:module';
await import(${index});
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(loaded.filter((f) => /i18n-iso-countries.langs/.test(f)).length);`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(stdout.trim()).to.equal('0');
  });
});
