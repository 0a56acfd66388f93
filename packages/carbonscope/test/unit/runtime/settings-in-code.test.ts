import { expect } from 'chai';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { checkSettings, loadSettings, type Settings } from '../../../src/settings.js';

/** The settings loadSettings gives, one field of one group replaced. */
function withField(group: 'grid' | 'energy', field: string, value: unknown): Settings {
  const settings = loadSettings({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' });
  return { ...settings, [group]: { ...settings[group], [field]: value } };
}

// Settings built in code were taken as they came: a PUE of NaN or -1 and an intensity of -300
// priced every joule at 0 g without a word, where the same value in the environment stops.
describe('settings given in code', () => {
  for (const [group, field, value, message] of [
    [
      'energy',
      'pue',
      Number.NaN,
      /^settings\.energy\.pue \(PUE\): expected a decimal number, from 1 to 5 \(got NaN\)$/,
    ],
    ['energy', 'pue', -1, /^settings\.energy\.pue \(PUE\): .*from 1 to 5/],
    ['grid', 'fixedIntensity', -300, /^settings\.grid\.fixedIntensity \(CARBON_INTENSITY\): /],
    ['energy', 'ramWattsPerGb', Number.NaN, /^settings\.energy\.ramWattsPerGb /],
    ['energy', 'source', 'RAPL', /^settings\.energy\.source \(ENERGY_SOURCE\): .*"auto"/],
    ['grid', 'zone', 'de', /^settings\.grid\.zone \(CARBON_ZONE\): /],
    [
      'energy',
      'operationMaxNames',
      0,
      /^settings\.energy\.operationMaxNames \(ENERGY_OPERATION_MAX_NAMES\): .*from 1 to 600/,
    ],
    [
      'grid',
      'timeoutMs',
      '5000',
      /^settings\.grid\.timeoutMs \(GRID_TIMEOUT_MS\): .*\(got "5000" \(a string\)\)$/,
    ],
  ] as const) {
    it(`refuses ${group}.${field} = ${String(value)}, naming the field and its variable`, () => {
      expect(() => checkSettings(withField(group, field, value))).to.throw(RangeError, message);
    });
  }

  // The sample interval was left out of the check (the CLI sets it past the variable's minute):
  // NaN, 0 or -1 in code sampled every millisecond (216 samples in 0.3 s for NaN, 1 at 1000 ms).
  for (const value of [Number.NaN, 0, -1, 49, 1.5, 3_600_001, '1000']) {
    it(`refuses energy.sampleIntervalMs = ${JSON.stringify(value)}, naming the field and its variable`, () => {
      expect(() => checkSettings(withField('energy', 'sampleIntervalMs', value))).to.throw(
        RangeError,
        /^settings\.energy\.sampleIntervalMs \(ENERGY_SAMPLE_INTERVAL_MS\): expected a whole number of milliseconds, from 50 to 3600000 \(got .+\)$/,
      );
    });
  }

  it("takes a sample interval past the variable's minute, up to the CLI's hour", () => {
    for (const value of [50, 120_000, 3_600_000]) {
      expect(() => checkSettings(withField('energy', 'sampleIntervalMs', value))).not.to.throw();
    }
  });

  // The other fields in milliseconds were left out too, each from its variable's range: an
  // exporter interval of NaN read Kepler's /metrics 527 times a second (1 at 5000), a cache TTL
  // or stale limit of NaN kept no value or none stale, a timeout of NaN aborted nothing.
  const inMilliseconds = [
    ['grid', 'cacheTtlMs', 'GRID_CACHE_TTL_SECONDS', 1000, 86_400_000],
    ['grid', 'maxStaleMs', 'GRID_STALE_MAX_AGE_SECONDS', 0, 604_800_000],
    ['energy.exporter', 'intervalMs', 'ENERGY_EXPORTER_INTERVAL_MS', 100, 600_000],
    ['energy.exporter', 'timeoutMs', 'ENERGY_EXPORTER_TIMEOUT_MS', 100, 60_000],
  ] as const;
  for (const [group, field, variable, min, max] of inMilliseconds) {
    const set = (value: unknown) => {
      const settings = loadSettings({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' });
      if (group === 'grid') return { ...settings, grid: { ...settings.grid, [field]: value } };
      const exporter = { ...settings.energy.exporter, [field]: value };
      return { ...settings, energy: { ...settings.energy, exporter } };
    };
    it(`refuses ${group}.${field} out of ${variable}'s range, in ms, and takes its ends`, () => {
      for (const value of [Number.NaN, -1, min - 1, max + 1, min + 0.5, String(max), undefined]) {
        expect(() => checkSettings(set(value)), String(value)).to.throw(
          RangeError,
          new RegExp(
            `^settings\\.${group.replace('.', '\\.')}\\.${field} \\(${variable}\\): expected a ` +
              `whole number of milliseconds, from ${min} to ${max} \\(got .+\\)$`,
          ),
        );
      }
      for (const value of [min, max]) expect(() => checkSettings(set(value))).not.to.throw();
    });
  }

  // A field the type requires, left out (plain JavaScript's `{ ...settings.energy, pue }` with
  // `pue` unset), passed as an optional one does: a PUE left out priced every joule at 0 g
  // without a word (grams 0 where 1.2 gave 0.0016 in a second), as NaN did before its check.
  for (const [group, field, variable] of [
    ['energy', 'pue', 'PUE'],
    ['energy', 'ramWattsPerGb', 'ENERGY_RAM_WATTS_PER_GB'],
    ['energy', 'calibrationIntervalMs', 'ENERGY_CALIBRATION_INTERVAL_MS'],
    ['energy', 'operationMaxAgeMs', 'ENERGY_OPERATION_MAX_AGE_MS'],
    ['energy', 'source', 'ENERGY_SOURCE'],
    ['grid', 'timeoutMs', 'GRID_TIMEOUT_MS'],
    ['grid', 'otherZoneLookupsPerHour', 'GRID_OTHER_ZONE_LOOKUPS_PER_HOUR'],
  ] as const) {
    it(`refuses ${group}.${field} left out, which its type requires`, () => {
      expect(() => checkSettings(withField(group, field, undefined))).to.throw(
        RangeError,
        new RegExp(`^settings\\.${group}\\.${field} \\(${variable}\\): .*\\(got undefined\\)$`),
      );
    });
  }

  it('takes what loadSettings gives, optional fields left out included', () => {
    expect(() => checkSettings(loadSettings({}))).not.to.throw();
    expect(() => checkSettings(withField('grid', 'fixedIntensity', undefined))).not.to.throw();
    expect(() => checkSettings(withField('energy', 'operationMaxNames', undefined))).not.to.throw();
    expect(() => checkSettings(withField('energy', 'cpuTdpWatts', undefined))).not.to.throw();
  });

  it('Carbonscope.create refuses them before it probes anything', async () => {
    let thrown: unknown;
    try {
      await Carbonscope.create({ settings: withField('energy', 'pue', -1), env: {} });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(RangeError);
  });
});
