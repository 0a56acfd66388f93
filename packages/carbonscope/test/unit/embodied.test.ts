import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { expect } from 'chai';
import {
  EMBODIED_PROFILE_FIGURES,
  type EmbodiedSettings,
  embodiedGramsPerSecond,
  SECONDS_PER_YEAR,
  sciOf,
} from '../../src/energy/index.js';
import { loadSettings, SettingsError } from '../../src/settings.js';

const settings = (env: Record<string, string> = {}) => loadSettings({ CARBON_ZONE: 'DE', ...env });

describe('embodied emissions and SCI', () => {
  it('defaults to a whole server as the machine seen: CCF base rack server, 4 years, all vCPUs reserved', () => {
    const { embodied } = settings();
    const seen = cpus().length;
    expect(embodied).to.deep.include({
      profile: 'server',
      totalKg: 1000,
      lifetimeYears: 4,
      hostVcpus: seen,
      reservedVcpus: seen,
    });
    expect(embodied.source).to.match(/Cloud Carbon Footprint/);
    // 1,000 kg over 4 years: 7.92 mg per second for the whole host.
    expect(embodiedGramsPerSecond(embodied)).to.be.closeTo(1e6 / (4 * SECONDS_PER_YEAR), 1e-15);
  });

  it('cloud-vcpu: an m5 host shared by its 96 vCPUs, this machine reserving what it sees', () => {
    const { embodied } = settings({ EMBODIED_PROFILE: 'cloud-vcpu' });
    const seen = cpus().length;
    expect(embodied).to.deep.include({ totalKg: 1610.79, hostVcpus: 96, reservedVcpus: seen });
    const perVcpuPerSecond = 1610.79e3 / 96 / (4 * SECONDS_PER_YEAR);
    expect(embodiedGramsPerSecond(embodied)).to.be.closeTo(perVcpuPerSecond * seen, 1e-15);
  });

  // A container pinned to cores (Kubernetes' static CPU manager, `docker --cpuset-cpus`,
  // `taskset`) sees fewer of them in os.availableParallelism(); the process's share of the
  // host's M is its CPU time over every logical CPU's (the capacity /proc/stat counts), so the
  // reserved share must be that machine's too, or a pinned process gets a fraction of its M.
  it('a process pinned to one core still reserves the whole machine its share is taken of', function () {
    if (cpus().length < 2 || process.platform !== 'linux') this.skip();
    const settingsUrl = new URL('../../src/settings.js', import.meta.url).href;
    const script = `const { loadSettings } = await import(${JSON.stringify(settingsUrl)});
      const os = await import('node:os');
      const { embodied } = loadSettings({ CARBON_ZONE: 'DE', EMBODIED_PROFILE: 'cloud-vcpu' });
      console.log(JSON.stringify({ seen: os.availableParallelism(), reserved: embodied.reservedVcpus }));`;
    let out: string;
    try {
      out = execFileSync(
        'taskset',
        ['-c', '0', process.execPath, '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
        },
      );
    } catch (err) {
      // A skip would hide the check on the machine that lacks the tool: named, it fails.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new Error('missing taskset (util-linux): this test pins a child to one core with it');
    }
    const pinned = JSON.parse(out) as { seen: number; reserved: number };
    expect(pinned.seen, 'taskset pinned the child to one core').to.equal(1);
    expect(pinned.reserved).to.equal(Math.min(cpus().length, 96));
  });

  it("laptop: Boavizta's 181 kgCO2e over its 35,040 hours, not 4 years of 365.25 days", () => {
    const { embodied } = settings({ EMBODIED_PROFILE: 'laptop', EMBODIED_RESERVED_VCPUS: '1' });
    const host = embodied.hostVcpus;
    // 35,040 h is 4 × 365 days (archetypes/user_terminal.csv); 4 × 365.25 days is 35,064 h.
    expect(embodiedGramsPerSecond(embodied) * host).to.be.closeTo(181e3 / (35_040 * 3600), 1e-15);
  });

  it('takes TE, EL, ToR and RR as set over the profile, and says where they came from', () => {
    const { embodied } = settings({
      EMBODIED_PROFILE: 'laptop',
      EMBODIED_KGCO2E: '250',
      EMBODIED_HOST_VCPUS: '64',
      EMBODIED_RESERVED_VCPUS: '8',
    });
    expect(embodied).to.deep.include({
      profile: 'laptop',
      totalKg: 250,
      lifetimeYears: EMBODIED_PROFILE_FIGURES.laptop.lifetimeYears,
      hostVcpus: 64,
      reservedVcpus: 8,
    });
    expect(embodied.source).to.match(/^EMBODIED_KGCO2E \/ EMBODIED_LIFETIME_YEARS as set/);
    expect(embodiedGramsPerSecond(embodied)).to.be.closeTo(
      (250e3 / (35_040 * 3600)) * (8 / 64),
      1e-15,
    );
    expect(embodiedGramsPerSecond(settings({ EMBODIED_KGCO2E: '0' }).embodied)).to.equal(0);
  });

  it('refuses malformed values and a reservation larger than the host, naming the variable', () => {
    for (const [variable, value] of [
      ['EMBODIED_PROFILE', 'mainframe'],
      ['EMBODIED_KGCO2E', '-1'],
      ['EMBODIED_KGCO2E', '1e3x'],
      ['EMBODIED_LIFETIME_YEARS', '0'],
      ['EMBODIED_HOST_VCPUS', '2.5'],
      ['EMBODIED_RESERVED_VCPUS', '0'],
    ] as const) {
      expect(() => settings({ [variable]: value }), `${variable}=${value}`)
        .to.throw(SettingsError)
        .with.property('variable', variable);
    }
    expect(() => settings({ EMBODIED_HOST_VCPUS: '4', EMBODIED_RESERVED_VCPUS: '8' }))
      .to.throw(SettingsError, /8 reserved vCPUs exceed the host's 4/)
      .with.property('variable', 'EMBODIED_RESERVED_VCPUS');
  });

  it("refuses a caller's own TE, EL, ToR or RR that would make M NaN, Infinity or 0 unasked", () => {
    const own: EmbodiedSettings = {
      profile: 'server',
      totalKg: 1000,
      lifetimeYears: 4,
      hostVcpus: 4,
      reservedVcpus: 2,
      source: 'a test host',
    };
    // A reservedVcpus left out gave NaN, which sciOf then read as no embodied emissions at all;
    // a lifetime of 0 or a host of 0 vCPUs gave 0, as if TE were 0.
    const cases: Array<[keyof EmbodiedSettings, unknown]> = [
      ['reservedVcpus', undefined],
      ['reservedVcpus', Number.NaN],
      ['reservedVcpus', 8],
      ['reservedVcpus', 1.5],
      ['hostVcpus', 0],
      ['hostVcpus', '4'],
      ['totalKg', Number.POSITIVE_INFINITY],
      ['totalKg', -1],
      ['lifetimeYears', 0],
      ['lifetimeYears', 1e-300],
    ];
    for (const [field, value] of cases) {
      expect(
        () => embodiedGramsPerSecond({ ...own, [field]: value }),
        `${field}=${String(value)}`,
      ).to.throw(RangeError, new RegExp(`^embodied ${field}: expected `));
    }
    expect(embodiedGramsPerSecond({ ...own, totalKg: 0 })).to.equal(0);
    expect(embodiedGramsPerSecond({ ...own, reservedVcpus: 4 })).to.be.closeTo(
      1e6 / (4 * SECONDS_PER_YEAR),
      1e-15,
    );
  });

  it('scores (E × I + M) / R with its parts; M makes it an estimate', () => {
    expect(sciOf({ grams: 3, embodiedGrams: 1, estimated: false }, 8)).to.deep.equal({
      operationalGrams: 3,
      embodiedGrams: 1,
      units: 8,
      gramsPerUnit: 0.5,
      estimated: true,
    });
    expect(sciOf({ grams: 3, embodiedGrams: 0, estimated: false })).to.include({
      gramsPerUnit: 3,
      estimated: false,
    });
    // A NaN part read as 0 (an SCI of E × I alone, "not estimated"); Infinity came out as is.
    for (const part of ['grams', 'embodiedGrams'] as const) {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, '3']) {
        const parts = { grams: 1, embodiedGrams: 1, estimated: false, [part]: value as number };
        expect(() => sciOf(parts), `${part}=${String(value)}`).to.throw(
          RangeError,
          new RegExp(`^${part}: expected a finite number of grams, got `),
        );
      }
    }
    // A difference of two totals can be a hair under 0: that is 0, not a refusal.
    expect(sciOf({ grams: -1e-18, embodiedGrams: 1, estimated: false }).operationalGrams).to.equal(
      0,
    );
    for (const units of [0, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sciOf({ grams: 1, embodiedGrams: 1, estimated: false }, units)).to.throw(
        RangeError,
      );
    }
  });
});
