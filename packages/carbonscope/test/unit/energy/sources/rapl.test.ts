import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { withHandover } from '../../../../src/energy/sources/handover.js';
import { readSysText, readZoneCounters } from '../../../../src/energy/sources/powercap-zones.js';
import {
  counterDeltaUj,
  createRaplSource,
  discoverRaplDomains,
  parseMicrojoules,
  type ReadText,
} from '../../../../src/energy/sources/rapl.js';
import type {
  EnergyReading,
  PowerSource,
  SampleTick,
} from '../../../../src/energy/sources/source.js';
import {
  buildPowercapTree,
  captureLogger,
  setEnergy,
  tempDir,
  tick,
  type ZoneSpec,
} from './helpers.js';

const MAX = 262_143_328_850;

/** Energies by device, in integer microjoules, so comparisons are exact. */
function microjoules(readings: readonly EnergyReading[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of readings) {
    expect(Number.isFinite(r.joules) && r.joules >= 0, `${r.device} joules`).to.equal(true);
    expect(Number.isFinite(r.watts) && r.watts >= 0, `${r.device} watts`).to.equal(true);
    out[r.device] = Math.round(r.joules * 1e6);
    // Exact conversion at the edge: the reading is the nearest double to µJ / 1e6.
    expect(r.joules).to.equal(out[r.device] / 1e6);
  }
  return out;
}

const TWO_SOCKET_INTEL: ZoneSpec[] = [
  { dir: 'intel-rapl:0', name: 'package-0', energyUj: 10_000_000, maxUj: MAX },
  { dir: 'intel-rapl:0:0', name: 'core', energyUj: 5_000_000, maxUj: MAX },
  { dir: 'intel-rapl:0:1', name: 'dram', energyUj: 2_000_000, maxUj: 65_532_610_987 },
  { dir: 'intel-rapl:1', name: 'package-1', energyUj: 20_000_000, maxUj: MAX },
  { dir: 'intel-rapl:1:0', name: 'core', energyUj: 6_000_000, maxUj: MAX },
  { dir: 'intel-rapl:1:1', name: 'dram', energyUj: 3_000_000, maxUj: 65_532_610_987 },
  // The MMIO interface exposes package-0 again: it must not be counted twice.
  { dir: 'intel-rapl-mmio:0', name: 'package-0', energyUj: 10_000_000, maxUj: MAX },
];

describe('energy/sources/rapl', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('rapl'));
  });
  afterEach(() => cleanup());

  it('two-socket Intel: sums each package and its dram, not core, not the mmio duplicate', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const { logger } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    const probe = await rapl.probe();
    expect(probe.ok).to.equal(true);
    expect(rapl.domains.map((d) => [d.device, d.component, d.zone])).to.deep.equal([
      ['package-0', 'package', 'intel-rapl:0'],
      ['dram-0', 'dram', 'intel-rapl:0:1'],
      ['package-1', 'package', 'intel-rapl:1'],
      ['dram-1', 'dram', 'intel-rapl:1:1'],
    ]);

    setEnergy(dir, 'intel-rapl:0', 10_000_000 + 35_123_457);
    setEnergy(dir, 'intel-rapl:0:0', 5_000_000 + 30_000_000);
    setEnergy(dir, 'intel-rapl:0:1', 2_000_000 + 4_000_001);
    setEnergy(dir, 'intel-rapl:1', 20_000_000 + 41_999_999);
    setEnergy(dir, 'intel-rapl:1:1', 3_000_000 + 3_500_003);
    setEnergy(dir, 'intel-rapl-mmio:0', 10_000_000 + 99_000_000);
    const readings = rapl.sample(tick(1000));
    expect(microjoules(readings)).to.deep.equal({
      'package-0': 35_123_457,
      'dram-0': 4_000_001,
      'package-1': 41_999_999,
      'dram-1': 3_500_003,
    });
    expect(readings.find((r) => r.device === 'package-0')?.watts).to.equal(35.123457);
    // Nothing moved: zero, not a repeat of the last delta.
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({
      'package-0': 0,
      'dram-0': 0,
      'package-1': 0,
      'dram-1': 0,
    });
  });

  it('keeps an mmio zone when it is the only one with that name', () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl-mmio:0', name: 'package-0', energyUj: 1, maxUj: MAX },
    ]);
    expect(discoverRaplDomains(dir).map((d) => d.zone)).to.deep.equal(['intel-rapl-mmio:0']);
  });

  it('AMD: package only; the core zone inside it is never added', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1_000, maxUj: 65_712_999_613 },
      { dir: 'intel-rapl:0:0', name: 'core', energyUj: 500, maxUj: 65_712_999_613 },
    ]);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger });
    expect((await rapl.probe()).ok).to.equal(true);
    setEnergy(dir, 'intel-rapl:0', 1_000 + 17_654_321);
    setEnergy(dir, 'intel-rapl:0:0', 500 + 9_000_000);
    const readings = rapl.sample(tick(500));
    expect(microjoules(readings)).to.deep.equal({ 'package-0': 17_654_321 });
    expect(readings[0].component).to.equal('package');
    expect(readings[0].watts).to.equal(17.654321 / 0.5);
  });

  // The kernel names a package zone `package-%d-die-%d` where a package has several dies
  // (intel_rapl_common.c, rapl_add_package: Cascade Lake-AP and later multi-die parts). Those
  // zones were not recognised: no package found, RAPL dropped for the estimate.
  it('multi-die packages (package-N-die-M): every die and its dram, not core', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0-die-0', energyUj: 1_000, maxUj: MAX },
      { dir: 'intel-rapl:0:0', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:1', name: 'core', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'package-0-die-1', energyUj: 2_000, maxUj: MAX },
      { dir: 'intel-rapl:1:0', name: 'dram', energyUj: 200, maxUj: MAX },
    ]);
    const rapl = createRaplSource({
      root: dir,
      logger: captureLogger().logger,
      cpuVendor: () => 'GenuineIntel',
    });
    expect((await rapl.probe()).ok).to.equal(true);
    expect(rapl.domains.map((d) => [d.device, d.component, d.zone])).to.deep.equal([
      ['package-0-die-0', 'package', 'intel-rapl:0'],
      ['dram-0-die-0', 'dram', 'intel-rapl:0:0'],
      ['package-0-die-1', 'package', 'intel-rapl:1'],
      ['dram-0-die-1', 'dram', 'intel-rapl:1:0'],
    ]);
    setEnergy(dir, 'intel-rapl:0', 1_000 + 7_000_000);
    setEnergy(dir, 'intel-rapl:0:1', 100 + 5_000_000);
    setEnergy(dir, 'intel-rapl:1', 2_000 + 8_000_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({
      'package-0-die-0': 7_000_000,
      'dram-0-die-0': 0,
      'package-0-die-1': 8_000_000,
      'dram-0-die-1': 0,
    });
  });

  // powercap names a zone `<parent>:%x` (powercap_sys.c, powercap_register_zone): the 11th
  // package is intel-rapl:a. Only decimal folders were read: on a 16-socket machine (HPE
  // Superdome Flex) six packages and their dram went uncounted, with no word said.
  it('zone folders numbered in hex (intel-rapl:a, intel-rapl:a:0) are read like the others', async () => {
    const zones: ZoneSpec[] = [];
    for (let n = 0; n < 12; n++) {
      const id = n.toString(16);
      zones.push({ dir: `intel-rapl:${id}`, name: `package-${n}`, energyUj: 1_000, maxUj: MAX });
      zones.push({ dir: `intel-rapl:${id}:0`, name: 'dram', energyUj: 100, maxUj: MAX });
    }
    buildPowercapTree(dir, zones);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger });
    expect((await rapl.probe()).ok).to.equal(true);
    const devices = rapl.domains.map((d) => `${d.device}@${d.zone}`);
    expect(devices).to.have.length(24);
    expect(devices).to.include.members([
      'package-10@intel-rapl:a',
      'dram-10@intel-rapl:a:0',
      'package-11@intel-rapl:b',
      'dram-11@intel-rapl:b:0',
    ]);
    setEnergy(dir, 'intel-rapl:b', 1_000 + 9_000_000);
    expect(microjoules(rapl.sample(tick(1000)))['package-11']).to.equal(9_000_000);
  });

  // On AMD and Hygon the package energy counter is the package's (intel_rapl_common.c,
  // rapl_msrs_are_pkg_scope). Kernels with AMD's CPUID 0x80000026 topology but before the fix
  // (6.10, "powercap/intel_rapl: Fix the energy-pkg event for AMD CPUs") register a zone per
  // CCD named package-N-die-M, each reading that same package counter: summed, a 2-socket
  // 8-CCD Zen 4 counted each package 8 times.
  it('AMD per-CCD zones (package-N-die-M on one package counter): each package once', async () => {
    const zones: ZoneSpec[] = [];
    for (let socket = 0; socket < 2; socket++) {
      for (let ccd = 0; ccd < 8; ccd++) {
        const id = (socket * 8 + ccd).toString(16);
        const energyUj = 5_000_000 * (socket + 1);
        zones.push({
          dir: `intel-rapl:${id}`,
          name: `package-${socket}-die-${ccd}`,
          energyUj,
          maxUj: MAX,
        });
        zones.push({ dir: `intel-rapl:${id}:0`, name: 'core', energyUj: 1_000, maxUj: MAX });
      }
    }
    buildPowercapTree(dir, zones);
    const rapl = createRaplSource({
      root: dir,
      logger: captureLogger().logger,
      cpuVendor: () => 'AuthenticAMD',
    });
    expect((await rapl.probe()).ok).to.equal(true);
    expect(rapl.domains.map((d) => `${d.device}@${d.zone}`)).to.deep.equal([
      'package-0@intel-rapl:0',
      'package-1@intel-rapl:8',
    ]);
    for (let i = 0; i < 16; i++) {
      setEnergy(dir, `intel-rapl:${i.toString(16)}`, 5_000_000 * (i < 8 ? 1 : 2) + 3_000_000);
    }
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({
      'package-0': 3_000_000,
      'package-1': 3_000_000,
    });
  });

  it('psys present: the platform zone alone, packages and dram left out', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:0', name: 'core', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:1', name: 'uncore', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:2', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'psys', energyUj: 7_000, maxUj: MAX },
    ]);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger });
    expect((await rapl.probe()).ok).to.equal(true);
    for (const z of ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1', 'intel-rapl:0:2']) {
      setEnergy(dir, z, 5_000_000);
    }
    setEnergy(dir, 'intel-rapl:1', 7_000 + 12_345_678);
    const readings = rapl.sample(tick(1000));
    expect(microjoules(readings)).to.deep.equal({ psys: 12_345_678 });
    expect(readings[0].component).to.equal('system');
  });

  it('psys named psys-1 (a master package other than 0, as on SPR): the platform zone alone', async () => {
    // intel_rapl_common.c names a package's platform zone `psys-%d` when the package's id is
    // over 0; only the master package's counter reads, so it is the one psys zone there is.
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:0', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'package-1', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1:0', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:2', name: 'psys-1', energyUj: 7_000, maxUj: MAX },
    ]);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger });
    expect(await rapl.probe()).to.deep.equal({ ok: true, detail: 'psys-1 (intel-rapl:2)' });
    for (const z of ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:1', 'intel-rapl:1:0']) {
      setEnergy(dir, z, 5_000_000);
    }
    setEnergy(dir, 'intel-rapl:2', 7_000 + 12_345_678);
    const readings = rapl.sample(tick(1000));
    expect(microjoules(readings)).to.deep.equal({ 'psys-1': 12_345_678 });
    expect(readings[0].component).to.equal('system');
  });

  it('psys-1 unreadable: its packages and dram instead, and said', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:0', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'psys-1', energyUj: 7_000, maxUj: MAX },
    ]);
    const psysPath = join(dir, 'intel-rapl:1', 'energy_uj');
    const read: ReadText = (path) => {
      if (path === psysPath) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return readFileSync(path, 'latin1');
    };
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger, read });
    const probe = await rapl.probe();
    expect(probe.ok).to.equal(true);
    expect(probe.ok && probe.detail).to.match(
      /^package-0 \(intel-rapl:0\), dram-0 \(intel-rapl:0:0\); psys-1 \(intel-rapl:1\) left out/,
    );
  });

  it('wraparound: delta = (max_energy_range_uj - previous) + current, over a sequence', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 999_000, maxUj: 1_000_000 },
    ]);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger });
    expect((await rapl.probe()).ok).to.equal(true);
    const sequence = [500, 200_000, 999_999, 7, 7];
    const expected = [1_500, 199_500, 799_999, 8, 0];
    const got: number[] = [];
    for (const value of sequence) {
      setEnergy(dir, 'intel-rapl:0', value);
      got.push(microjoules(rapl.sample(tick(1000)))['package-0']);
    }
    expect(got).to.deep.equal(expected);
    expect(got.reduce((a, b) => a + b, 0)).to.equal(1_001_007);
  });

  it('a counter drop without max_energy_range_uj counts from 0 (never negative) and says so', async () => {
    buildPowercapTree(dir, [{ dir: 'intel-rapl:0', name: 'package-0', energyUj: 900 }]);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    expect((await rapl.probe()).ok).to.equal(true);
    expect(
      warnings()
        .map((w) => w.msg)
        .join(),
    ).to.include('max_energy_range_uj unreadable');
    setEnergy(dir, 'intel-rapl:0', 300);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({ 'package-0': 300 });
  });

  // Facts (/work/shared/facts/power-sources.md, Linux RAPL): other meters "turn it off silently
  // when max_energy_range_uj is unreadable". A range of 0 gives no wrap point either.
  it('max_energy_range_uj of 0 is an unknown range: said at probe, a drop counts from 0', async () => {
    buildPowercapTree(dir, [{ dir: 'intel-rapl:0', name: 'package-0', energyUj: 900, maxUj: 0 }]);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    expect((await rapl.probe()).ok).to.equal(true);
    expect(rapl.domains[0].maxRangeUj).to.equal(undefined);
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      'rapl: intel-rapl:0/max_energy_range_uj unreadable; a counter drop will count from 0 (may undercount)',
    ]);
    setEnergy(dir, 'intel-rapl:0', 300);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({ 'package-0': 300 });
  });

  // Facts (power-sources.md): the wrap formula applies when the counter wrapped. A counter that
  // restarts from 0 (a reset: suspend/resume, another host after a VM migration) also reads
  // lower; taken as a wrap from far below max_energy_range_uj it would add most of the range
  // (here ~162 kJ in 1 s, 162 kW on one package). A counter read far more often than it wraps
  // moves less than half its range between reads.
  it('a drop too far for a wrap is a reset: counted from 0, said once, wraps still counted', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100_000_000_000, maxUj: MAX },
    ]);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    expect((await rapl.probe()).ok).to.equal(true);
    setEnergy(dir, 'intel-rapl:0', 5_000_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({ 'package-0': 5_000_000 });
    const resets = () => warnings().filter((w) => String(w.msg).includes('reset'));
    expect(resets()).to.have.length(1);
    expect(resets()[0].msg).to.include(join(dir, 'intel-rapl:0', 'energy_uj'));
    // A real wrap near the top of the range is still (max − previous) + current.
    setEnergy(dir, 'intel-rapl:0', MAX - 1_000_000);
    rapl.sample(tick(1000));
    setEnergy(dir, 'intel-rapl:0', 2_000_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({ 'package-0': 3_000_000 });
    setEnergy(dir, 'intel-rapl:0', 1_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({ 'package-0': 1_000 });
    expect(resets()).to.have.length(1);
  });

  // `monitor --interval` goes up to 1 h: between two reads that far apart a package at 118 W
  // spends 212 kJ, more than half its 262 kJ range, and a real wrap moves the counter that far.
  // Taken as a reset it counted 50 kJ of the 212 and warned of a suspend that never was.
  it('a drop past half the range over a long interval, at a power a CPU draws, is a wrap', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100_000_000_000, maxUj: MAX },
    ]);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    expect((await rapl.probe()).ok).to.equal(true);
    setEnergy(dir, 'intel-rapl:0', 50_000_000_000);
    const wrapped = MAX - 100_000_000_000 + 50_000_000_000;
    expect(microjoules(rapl.sample(tick(1_800_000)))).to.deep.equal({ 'package-0': wrapped });
    expect(warnings().filter((w) => String(w.msg).includes('reset'))).to.deep.equal([]);
  });

  it('counterDeltaUj covers the plain, wrapped and unknown-range cases', () => {
    expect(counterDeltaUj(10, 25, 100, 1)).to.equal(15);
    expect(counterDeltaUj(90, 5, 100, 1)).to.equal(15);
    expect(counterDeltaUj(90, 5, undefined, 1)).to.equal(5);
    // Back from 40 % of the range to 5 %: 65 % of it (170 kJ) as a wrap, 170 kW over 1 s, so a
    // reset; over 10 min, 284 W, a wrap.
    const [from, to] = [MAX * 0.4, MAX * 0.05];
    expect(counterDeltaUj(from, to, MAX, 1)).to.equal(to);
    expect(counterDeltaUj(from, to, MAX, 600)).to.equal(MAX - from + to);
  });

  it('unreadable energy_uj (EACCES, simulated by an injected reader since tests run as root): one reason with the fix', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const read: ReadText = (path) => {
      if (path.endsWith('energy_uj') && !path.endsWith('range_uj')) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
          code: 'EACCES',
        });
      }
      return readFileSync(path, 'latin1');
    };
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger, read });
    const probe = await rapl.probe();
    expect(probe.ok).to.equal(false);
    const reason = probe.ok ? '' : probe.reason;
    expect(reason).to.include('permission denied');
    expect(reason).to.include(join(dir, 'intel-rapl:0', 'energy_uj'));
    expect(reason).to.include('CVE-2020-8694');
    expect(reason).to.include('sudo chmod a+r');
    expect(reason).to.include('udev');
  });

  /** A reader that refuses (EACCES) the energy_uj of the zones named while `denied` holds them. */
  const denying =
    (denied: Set<string>): ReadText =>
    (path) => {
      const zone = path.split('/').at(-2) ?? '';
      if (path.endsWith('/energy_uj') && denied.has(zone)) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
          code: 'EACCES',
        });
      }
      return readFileSync(path, 'latin1');
    };

  /** A reader that refuses (EACCES) every file whose path `refused` matches, as it is set then. */
  const refusing = () => {
    const access: { refused: RegExp | undefined; read: ReadText } = {
      refused: undefined,
      read: (path) => {
        if (access.refused?.test(path)) {
          throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        }
        return readFileSync(path, 'latin1');
      },
    };
    return access;
  };
  /** Socket 1's package and its subzones. */
  const SOCKET_1 = /intel-rapl:1\//;

  it('one dram zone unreadable: the packages are measured, that dram is left out and said, and read once it can be', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const denied = new Set(['intel-rapl:0:1']);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger, read: denying(denied) });
    const probe = await rapl.probe();
    expect(probe.ok).to.equal(true);
    const detail = probe.ok ? probe.detail : '';
    expect(detail).to.match(/^package-0 \(intel-rapl:0\), package-1 \(intel-rapl:1\), dram-1/);
    expect(detail).to.match(/dram-0 \(intel-rapl:0:1\) left out: it cannot be read/);
    const said = warnings().filter((w) => String(w.msg).includes('intel-rapl:0:1/energy_uj'));
    expect(said).to.have.length(1);
    expect(String(said[0].msg)).to.include('sudo chmod a+r');
    expect(String(said[0].msg)).to.match(/dram-0 is left out until it can be read/);

    setEnergy(dir, 'intel-rapl:0', 10_000_000 + 4_000_000);
    setEnergy(dir, 'intel-rapl:1:1', 3_000_000 + 500_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({
      'package-0': 4_000_000,
      'package-1': 0,
      'dram-1': 500_000,
    });
    // Said once, at the probe, not again on every tick.
    rapl.sample(tick(1000));
    expect(warnings().filter((w) => String(w.msg).includes('intel-rapl:0:1'))).to.have.length(1);

    // chmod a+r while it runs: read from its next value on, never the time it was unread.
    denied.clear();
    setEnergy(dir, 'intel-rapl:0:1', 9_000_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.not.have.property('dram-0');
    setEnergy(dir, 'intel-rapl:0:1', 9_000_000 + 250_000);
    expect(microjoules(rapl.sample(tick(1000)))['dram-0']).to.equal(250_000);
    // Its wrap at its own max_energy_range_uj, read at the probe while energy_uj was not.
    setEnergy(dir, 'intel-rapl:0:1', 65_532_610_987 - 100_000);
    rapl.sample(tick(1000));
    setEnergy(dir, 'intel-rapl:0:1', 150_000);
    expect(microjoules(rapl.sample(tick(1000)))['dram-0']).to.equal(250_000);
  });

  it('a package unreadable while another is not: no half host as measured, the estimate (fixable)', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const read = denying(new Set(['intel-rapl:1']));
    const probe = await createRaplSource({
      root: dir,
      logger: captureLogger().logger,
      read,
    }).probe();
    expect(probe.ok).to.equal(false);
    expect(probe).to.include({ fixable: true });
    expect(probe.ok ? '' : probe.reason).to.include(join(dir, 'intel-rapl:1', 'energy_uj'));
  });

  it('psys unreadable, its packages readable: package and dram measured instead, and said', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:0', name: 'core', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:2', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'psys', energyUj: 7_000, maxUj: MAX },
    ]);
    const { logger, warnings } = captureLogger();
    const read = denying(new Set(['intel-rapl:1']));
    const rapl = createRaplSource({ root: dir, logger, read });
    const probe = await rapl.probe();
    expect(probe.ok).to.equal(true);
    expect(probe.ok ? probe.detail : '').to.match(
      /^package-0 \(intel-rapl:0\), dram-0 \(intel-rapl:0:2\); psys \(intel-rapl:1\) left out: it cannot be read/,
    );
    const said = warnings().filter((w) => String(w.msg).includes('intel-rapl:1/energy_uj'));
    expect(said).to.have.length(1);
    expect(String(said[0].msg)).to.match(/package and dram zones are read instead/);
    setEnergy(dir, 'intel-rapl:0', 100 + 3_000_000);
    setEnergy(dir, 'intel-rapl:0:2', 100 + 1_000_000);
    expect(microjoules(rapl.sample(tick(1000)))).to.deep.equal({
      'package-0': 3_000_000,
      'dram-0': 1_000_000,
    });
  });

  it('psys and packages all unreadable (root-only since the CVE): no word of reading the packages instead', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:0:2', name: 'dram', energyUj: 100, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'psys', energyUj: 7_000, maxUj: MAX },
    ]);
    const { logger, warnings } = captureLogger();
    const read = denying(new Set(['intel-rapl:0', 'intel-rapl:0:2', 'intel-rapl:1']));
    // The late start probes a fresh source every minute: a line here would come every minute.
    for (let i = 0; i < 3; i++) {
      const probe = await createRaplSource({ root: dir, logger, read }).probe();
      expect(probe).to.include({ ok: false, fixable: true });
    }
    expect(warnings().map((w) => String(w.msg))).to.deep.equal([]);
  });

  it('unreadable energy_uj (a directory in place of the file): the probe fails and names it', async () => {
    buildPowercapTree(dir, [{ dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: MAX }]);
    const path = join(dir, 'intel-rapl:0', 'energy_uj');
    unlinkSync(path);
    mkdirSync(path);
    const probe = await createRaplSource({ root: dir, logger: captureLogger().logger }).probe();
    expect(probe).to.deep.equal({ ok: false, reason: `cannot read ${path} (EISDIR)` });
  });

  it("a container's bind mount of /sys/class/powercap (its links' targets hidden): says why and how to mount it", async () => {
    // /sys/class/powercap holds links into /sys/devices/virtual/powercap, which Docker and
    // containerd mask in a container: the links are listed but lead nowhere.
    mkdirSync(dir, { recursive: true });
    symlinkSync('../../devices/virtual/powercap/intel-rapl', join(dir, 'intel-rapl'));
    symlinkSync(
      '../../devices/virtual/powercap/intel-rapl/intel-rapl:0',
      join(dir, 'intel-rapl:0'),
    );
    symlinkSync(
      '../../devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0',
      join(dir, 'intel-rapl:0:0'),
    );
    const probe = await createRaplSource({ root: dir, logger: captureLogger().logger }).probe();
    expect(probe.ok).to.equal(false);
    const reason = probe.ok ? '' : probe.reason;
    expect(reason).to.include(
      `${join(dir, 'intel-rapl:0')} is a link to ../../devices/virtual/powercap/intel-rapl/intel-rapl:0, which is not there`,
    );
    expect(reason).to.include('/sys/devices/virtual/powercap:/host/powercap:ro');
    expect(reason).to.include('ENERGY_POWERCAP_ROOT=/host/powercap');
    expect(probe).to.not.have.property('fixable');
  });

  it('/sys/devices/virtual/powercap mounted elsewhere (zones nested in their control type): read like /sys/class/powercap', async () => {
    const nested = TWO_SOCKET_INTEL.map((z) => {
      const [type, n] = z.dir.split(':');
      const parent = z.dir.split(':').length === 3 ? `${type}:${n}/` : '';
      return { ...z, dir: `${type}/${parent}${z.dir}` };
    });
    buildPowercapTree(dir, nested);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger });
    expect(await rapl.probe()).to.include({ ok: true });
    expect(rapl.domains.map((d) => [d.device, d.zone, d.energyPath])).to.deep.equal([
      ['package-0', 'intel-rapl:0', join(dir, 'intel-rapl/intel-rapl:0/energy_uj')],
      ['dram-0', 'intel-rapl:0:1', join(dir, 'intel-rapl/intel-rapl:0/intel-rapl:0:1/energy_uj')],
      ['package-1', 'intel-rapl:1', join(dir, 'intel-rapl/intel-rapl:1/energy_uj')],
      ['dram-1', 'intel-rapl:1:1', join(dir, 'intel-rapl/intel-rapl:1/intel-rapl:1:1/energy_uj')],
    ]);
    setEnergy(dir, 'intel-rapl/intel-rapl:1/intel-rapl:1:1', 3_000_000 + 700_000);
    expect(microjoules(rapl.sample(tick(1000)))['dram-1']).to.equal(700_000);
  });

  it('root-only energy_uj under a mounted /sys/devices/virtual/powercap: the chmod to run is on the host', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl/intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: MAX },
    ]);
    const read = denying(new Set(['intel-rapl:0']));
    const probe = await createRaplSource({
      root: dir,
      logger: captureLogger().logger,
      read,
    }).probe();
    expect(probe).to.include({ ok: false, fixable: true });
    const reason = probe.ok ? '' : probe.reason;
    expect(reason).to.include(`cannot read ${join(dir, 'intel-rapl/intel-rapl:0/energy_uj')}`);
    expect(reason).to.include(
      'Fix, on the host: `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*:*/energy_uj`',
    );
  });

  it("a package zone whose name cannot be read (its folder locked): no host figure without it, and said, not its dram's alone", async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const access = refusing();
    access.refused = /intel-rapl:0\/name$/;
    const { logger } = captureLogger();
    const probe = await createRaplSource({ root: dir, logger, read: access.read }).probe();
    expect(probe).to.deep.equal({
      ok: false,
      reason:
        `cannot read ${join(dir, 'intel-rapl:0', 'name')} (EACCES): a package or psys zone ` +
        'that cannot be named, which a host figure without it would be short of',
      fixable: true,
    });
    // Its dram, named, is no top-level dram of its own (the mmio twin names package-0 alone).
    expect(discoverRaplDomains(dir, access.read).map((d) => [d.device, d.zone])).to.deep.equal([
      ['package-0', 'intel-rapl-mmio:0'],
      ['package-1', 'intel-rapl:1'],
      ['dram-1', 'intel-rapl:1:1'],
    ]);
  });

  it('no powercap tree, or a tree without RAPL zones: the probe says which', async () => {
    const missing = join(dir, 'nope');
    const logger = captureLogger().logger;
    expect(await createRaplSource({ root: missing, logger }).probe()).to.deep.equal({
      ok: false,
      reason: `no powercap tree at ${missing}`,
    });
    expect(await createRaplSource({ root: dir, logger }).probe()).to.deep.equal({
      ok: false,
      reason: `no RAPL package or psys zone under ${dir}`,
    });
  });

  it('a file vanishing mid-run: that domain is skipped (logged once), energy never goes backwards', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    expect((await rapl.probe()).ok).to.equal(true);

    setEnergy(dir, 'intel-rapl:1', 20_000_000 + 1_000_000);
    expect(microjoules(rapl.sample(tick(1000)))['package-1']).to.equal(1_000_000);

    rmSync(join(dir, 'intel-rapl:1'), { recursive: true });
    setEnergy(dir, 'intel-rapl:0', 10_000_000 + 2_000_000);
    const during1 = microjoules(rapl.sample(tick(1000)));
    const during2 = microjoules(rapl.sample(tick(1000)));
    // The vanished package is a 0 J partial reading: its energy is missing, and says so.
    expect(during1).to.deep.equal({
      'package-0': 2_000_000,
      'package-1': 0,
      'dram-0': 0,
      'dram-1': 0,
    });
    expect(during2).to.deep.equal({ 'package-0': 0, 'package-1': 0, 'dram-0': 0, 'dram-1': 0 });
    const vanished = warnings().filter((w) => String(w.msg).includes('intel-rapl:1/energy_uj'));
    expect(vanished).to.have.length(1);

    // It comes back with a lower (reset) value: that tick only sets a new baseline, no guess.
    buildPowercapTree(dir, [{ dir: 'intel-rapl:1', name: 'package-1', energyUj: 50, maxUj: MAX }]);
    expect(microjoules(rapl.sample(tick(1000)))['package-1']).to.equal(0);
    setEnergy(dir, 'intel-rapl:1', 50 + 777);
    expect(microjoules(rapl.sample(tick(1000)))['package-1']).to.equal(777);
  });

  it('a package that stops being readable mid-run (chmod): said once each way, partial meanwhile', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const { logger, warnings } = captureLogger();
    const access = refusing();
    const rapl = createRaplSource({ root: dir, logger, read: access.read });
    expect((await rapl.probe()).ok).to.equal(true);
    const said = () => warnings().map((w) => String(w.msg));
    const lostDevice = (r: readonly EnergyReading[]) => r.find((x) => x.device === 'package-1');

    setEnergy(dir, 'intel-rapl:1', 20_000_000 + 1_000_000);
    const before = rapl.sample(tick(1000));
    expect(lostDevice(before)).to.not.have.property('partial');

    access.refused = SOCKET_1;
    for (let i = 0; i < 3; i++) {
      // Its energy is missing from the host figure: a 0 J reading that says so, not silence.
      expect(lostDevice(rapl.sample(tick(1000)))).to.deep.include({ joules: 0, partial: true });
    }
    expect(said()).to.have.length(1);
    expect(said()[0]).to.match(/intel-rapl:1\/energy_uj cannot be read.*package-1 is left out/);

    access.refused = undefined;
    // The tick it reads again only sets its new baseline: still partial, and said once.
    expect(lostDevice(rapl.sample(tick(1000)))).to.deep.include({ joules: 0, partial: true });
    expect(said()).to.have.length(2);
    expect(said()[1]).to.match(/intel-rapl:1\/energy_uj reads again: package-1 is counted again/);
    setEnergy(dir, 'intel-rapl:1', 21_000_000 + 500_000);
    const after = rapl.sample(tick(1000));
    expect(microjoules(after)['package-1']).to.equal(500_000);
    expect(lostDevice(after)).to.not.have.property('partial');

    // Lost again later: said again, not kept quiet because it was said the first time.
    access.refused = SOCKET_1;
    expect(lostDevice(rapl.sample(tick(1000)))).to.deep.include({ partial: true });
    expect(said()).to.have.length(3);
  });

  // A zone flapping (a flaky hotplug, a chmod loop) said each flip: 2 lines a second at a 1 s
  // interval. Told as the OTLP pushes and grid lookups are (FailureRun): a few lines an hour.
  it('a zone unreadable every other sample is told as flapping, not one line per flip', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const { logger, warnings, lines: logged } = captureLogger();
    const steady = () => logged.filter((l) => String(l.msg).includes('steadily again'));
    const access = refusing();
    const rapl = createRaplSource({ root: dir, logger, read: access.read });
    expect((await rapl.probe()).ok).to.equal(true);
    // An hour at a 1 s interval, package-1 unreadable every other second.
    for (let s = 1; s <= 3600; s++) {
      access.refused = s % 2 === 1 ? SOCKET_1 : undefined;
      rapl.sample(tick(1000, undefined, s * 1000));
    }
    const lines = warnings().filter((w) => String(w.msg).includes('intel-rapl:1'));
    expect(lines.length).to.be.within(3, 10);
    expect(lines.map((w) => String(w.msg)).join('\n')).to.match(/on and off/);
    // Readable for a window after: its end is told once.
    access.refused = undefined;
    for (let s = 3601; s <= 3601 + 660; s++) rapl.sample(tick(1000, undefined, s * 1000));
    // At warn, as the flapping was told: the default level shows it.
    expect(steady().map((l) => l.level)).to.deep.equal([40]);
  });

  // The tick all zones read again after all were lost is thrown (it only sets baselines): the
  // return of a zone lost before it was never said, and its later loss was then kept quiet.
  it('a zone whose return comes on a tick that reads nothing else is said back, and lost again', async () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const { logger, warnings } = captureLogger();
    const access = refusing();
    const rapl = createRaplSource({ root: dir, logger, read: access.read });
    expect((await rapl.probe()).ok).to.equal(true);
    const said = () => warnings().map((w) => String(w.msg));
    access.refused = SOCKET_1;
    rapl.sample(tick(1000, undefined, 1000));
    expect(said()).to.have.length(1);
    access.refused = /intel-rapl:/;
    expect(() => rapl.sample(tick(1000, undefined, 2000))).to.throw();
    access.refused = undefined;
    expect(() => rapl.sample(tick(1000, undefined, 3000))).to.throw(/baseline/);
    expect(said().filter((m) => /intel-rapl:1\/energy_uj reads again/.test(m))).to.have.length(1);
    rapl.sample(tick(1000, undefined, 4000));
    // Lost again well after: a new loss, said.
    access.refused = SOCKET_1;
    rapl.sample(tick(1000, undefined, 4000 + 3_600_000));
    const losses = said().filter((m) => /intel-rapl:1\/energy_uj cannot be read/.test(m));
    expect(losses).to.have.length(2);
  });

  it('an empty read (a file caught while rewritten) is a gap, not a reset to 0', async () => {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1_000, maxUj: MAX },
    ]);
    const { logger } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger });
    expect((await rapl.probe()).ok).to.equal(true);
    expect(parseMicrojoules('')).to.equal(undefined);
    expect(parseMicrojoules(' \n')).to.equal(undefined);
    writeFileSync(join(dir, 'intel-rapl:0', 'energy_uj'), '');
    // No domain read: no 0 W but a gap, which whoever samples covers (the estimate).
    expect(() => rapl.sample(tick(1000))).to.throw('intel-rapl:0/energy_uj cannot be read');
    setEnergy(dir, 'intel-rapl:0', 3_000);
    expect(() => rapl.sample(tick(1000))).to.throw('only sets their new baseline');
    setEnergy(dir, 'intel-rapl:0', 3_500);
    expect(microjoules(rapl.sample(tick(1000)))['package-0']).to.equal(500);
  });

  // Since stop 61 a zone back after a gap only set its new baseline: the energy its counter
  // counted meanwhile was lost. Where its max power bounds what the gap could hold below one
  // counter range, no wrap can hide in the delta, and it is recovered.
  describe('a zone read again after a gap', () => {
    /** Two sockets; socket 1's package says it draws at most 200 W (constraint_0_max_power_uw). */
    const BOUNDED: ZoneSpec[] = [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 10_000_000, maxUj: MAX },
      { dir: 'intel-rapl:1', name: 'package-1', energyUj: 20_000_000, maxUj: MAX },
    ].map((z) => (z.dir === 'intel-rapl:1' ? { ...z, maxPowerUw: 200_000_000 } : z));
    /** A tick awake: the boot clock says no suspend in it. */
    const awake = (ms: number) => ({ ...tick(ms), suspendedMs: 0 });
    const socket1 = (r: readonly EnergyReading[]) => r.find((x) => x.device === 'package-1');

    async function lostFor(
      ticks: readonly SampleTick[],
      counterAfter: number,
      counterBefore = 20_000_000,
      backOn: SampleTick = awake(1000),
    ): Promise<{ back: EnergyReading | undefined; said: () => string[] }> {
      buildPowercapTree(dir, BOUNDED);
      setEnergy(dir, 'intel-rapl:1', counterBefore);
      const { logger, warnings } = captureLogger();
      const access = refusing();
      const rapl = createRaplSource({ root: dir, logger, read: access.read });
      expect((await rapl.probe()).ok).to.equal(true);
      expect(rapl.domains.map((d) => d.maxPowerUw)).to.deep.equal([undefined, 200_000_000]);
      access.refused = SOCKET_1;
      for (const t of ticks) rapl.sample(t);
      setEnergy(dir, 'intel-rapl:1', counterAfter);
      access.refused = undefined;
      const back = socket1(rapl.sample(backOn));
      return { back, said: () => warnings().map((w) => String(w.msg)) };
    }

    it('its counter over the gap is counted: the host energy, no power spike, not partial', async () => {
      const { back, said } = await lostFor([awake(1000), awake(1000), awake(1000)], 24_000_000);
      // 4 J over the 3 s unread and the 1 s back: 3 J before this interval, 1 J in it (1 W).
      expect(back).to.deep.equal({
        component: 'package',
        device: 'package-1',
        joules: 4,
        watts: 1,
        gapJoules: 3,
      });
      expect(said().at(-1)).to.match(/reads again: package-1 .*recovered from its counter/);
    });

    it('a wrap in the gap is counted as one: the gap is too short for a second', async () => {
      // 0.5 J to the wrap, 1.5 J after it: 2 J over the 1 s unread and the 1 s back.
      const { back } = await lostFor([awake(1000)], 1_500_000, MAX - 500_000);
      expect(back).to.deep.include({ joules: 2, watts: 1, gapJoules: 1 });
      expect(back).to.not.have.property('partial');
    });

    it('a gap long enough for a whole range at its max power: only a new baseline, partial', async () => {
      // 2 × 200 W × 656 s is over the 262 kJ range: a wrap could hide in any delta.
      const { back } = await lostFor([awake(655_000)], 21_000_000);
      expect(back).to.deep.include({ joules: 0, partial: true });
    });

    it('a suspend in the gap: only a new baseline (a resume may reset the counter)', async () => {
      const asleep = { ...awake(1000), suspendedMs: 60_000 };
      const { back } = await lostFor([awake(1000), asleep], 21_000_000);
      expect(back).to.deep.include({ joules: 0, partial: true });
    });

    it('a suspend on the tick it is back: only a new baseline', async () => {
      const asleep = { ...awake(1000), suspendedMs: 60_000 };
      const { back } = await lostFor([awake(1000)], 21_000_000, 20_000_000, asleep);
      expect(back).to.deep.include({ joules: 0, partial: true });
    });

    it('a gap no boot clock vouches for (a suspend unknown): only a new baseline', async () => {
      const { back } = await lostFor([tick(1000)], 21_000_000);
      expect(back).to.deep.include({ joules: 0, partial: true });
    });

    it('a counter reset in the gap (a drop too far for a wrap): only a new baseline', async () => {
      const { back } = await lostFor([awake(1000)], 5_000);
      expect(back).to.deep.include({ joules: 0, partial: true });
    });

    it('a tick in the gap with no zone read (the estimate covered it): only a new baseline', async () => {
      buildPowercapTree(dir, BOUNDED);
      const access = refusing();
      const rapl = createRaplSource({
        root: dir,
        logger: captureLogger().logger,
        read: access.read,
      });
      expect((await rapl.probe()).ok).to.equal(true);
      access.refused = SOCKET_1;
      rapl.sample(awake(1000));
      access.refused = /intel-rapl:/;
      expect(() => rapl.sample(awake(1000))).to.throw();
      access.refused = SOCKET_1;
      // Package-0 back only sets its baseline: nothing read, thrown again.
      expect(() => rapl.sample(awake(1000))).to.throw();
      rapl.sample(awake(1000));
      setEnergy(dir, 'intel-rapl:1', 25_000_000);
      access.refused = undefined;
      expect(socket1(rapl.sample(awake(1000)))).to.deep.include({ joules: 0, partial: true });
    });

    it("a tick in the gap whose readings a hand-over's primary replaced (Kepler): only a new baseline", async () => {
      // Kepler read the node's energy on the gap's first tick, RAPL's readings of it thrown
      // away; Kepler fails on the tick the zone is back: its gap held energy Kepler counted.
      buildPowercapTree(dir, BOUNDED);
      const access = refusing();
      const { logger } = captureLogger();
      const rapl = createRaplSource({ root: dir, logger, read: access.read });
      expect((await rapl.probe()).ok).to.equal(true);
      let keplerUp = true;
      const kepler: PowerSource = {
        name: 'kepler',
        estimated: false,
        kind: 'host',
        probe: async () => ({ ok: true, detail: 'scripted' }),
        sample: (t) => {
          if (!keplerUp) throw new Error('exporter down');
          return [
            { component: 'package', device: 'package', joules: t.elapsedMs / 1000, watts: 1 },
          ];
        },
        close: async () => undefined,
      };
      const host = withHandover({ primary: kepler, fallback: rapl, logger });
      access.refused = SOCKET_1;
      expect(host.sample(awake(1000))[0]).to.include({ device: 'package' });
      keplerUp = false;
      setEnergy(dir, 'intel-rapl:1', 22_000_000);
      access.refused = undefined;
      expect(socket1(host.sample(awake(1000)))).to.deep.include({ joules: 0, partial: true });
    });
  });
});

describe('energy/sources/rapl: counting from the early baseline (RaplOptions.early)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('rapl-early'));
  });
  afterEach(() => cleanup());

  const start: SampleTick = { ...tick(0), edge: 'start' };
  const ONE_SOCKET: ZoneSpec[] = [
    { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1_000_000, maxUj: MAX },
    { dir: 'intel-rapl:0:0', name: 'core', energyUj: 500_000, maxUj: MAX },
    { dir: 'intel-rapl:0:1', name: 'dram', energyUj: 200_000, maxUj: 65_532_610_987 },
  ];

  it('reads every zone of the tree, flat or nested, by the path its domain reads', () => {
    buildPowercapTree(dir, TWO_SOCKET_INTEL);
    const counters = readZoneCounters(dir, readSysText);
    expect(counters.get(join(dir, 'intel-rapl:0', 'energy_uj'))).to.equal(10_000_000);
    expect(counters.get(join(dir, 'intel-rapl:1:1', 'energy_uj'))).to.equal(3_000_000);
    expect(counters.size).to.equal(TWO_SOCKET_INTEL.length);
    expect(readZoneCounters(join(dir, 'none'), readSysText).size).to.equal(0);
  });

  it("its first interval runs from the early counters; the meter's start moves nothing", async () => {
    buildPowercapTree(dir, ONE_SOCKET);
    const early = readZoneCounters(dir, readSysText);
    setEnergy(dir, 'intel-rapl:0', 4_000_000);
    setEnergy(dir, 'intel-rapl:0:1', 700_000);
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger, early });
    expect((await rapl.probe()).ok).to.equal(true);
    setEnergy(dir, 'intel-rapl:0', 6_000_000);
    expect(rapl.sample(start)).to.deep.equal([]);
    setEnergy(dir, 'intel-rapl:0', 9_000_000);
    setEnergy(dir, 'intel-rapl:0:1', 1_200_000);
    expect(microjoules(rapl.sample(tick(1100)))).to.deep.equal({
      'package-0': 8_000_000,
      'dram-0': 1_000_000,
    });
    // From then on, tick to tick.
    setEnergy(dir, 'intel-rapl:0', 9_500_000);
    expect(microjoules(rapl.sample(tick(100)))).to.deep.include({ 'package-0': 500_000 });
  });

  it('a zone read at the probe but not early: counts from the start, as without, said once', async () => {
    buildPowercapTree(dir, ONE_SOCKET);
    const early = readZoneCounters(dir, readSysText);
    early.delete(join(dir, 'intel-rapl:0:1', 'energy_uj'));
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger, early });
    expect((await rapl.probe()).ok).to.equal(true);
    setEnergy(dir, 'intel-rapl:0', 3_000_000);
    rapl.sample(start);
    setEnergy(dir, 'intel-rapl:0', 3_500_000);
    expect(microjoules(rapl.sample(tick(100)))).to.deep.include({ 'package-0': 500_000 });
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      `rapl: ${join(dir, 'intel-rapl:0:1', 'energy_uj')} could not be read as carbonscope was ` +
        "created: RAPL's first interval counts from the meter's start, the work before it in " +
        'its time and CPU share but not in its energy',
    ]);
  });

  it('a zone gone between create() and the first sample: its loss said, the rest counted from create()', async () => {
    buildPowercapTree(dir, ONE_SOCKET);
    const early = readZoneCounters(dir, readSysText);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger, early });
    expect((await rapl.probe()).ok).to.equal(true);
    rapl.sample(start);
    unlinkSync(join(dir, 'intel-rapl:0:1', 'energy_uj'));
    setEnergy(dir, 'intel-rapl:0', 2_500_000);
    expect(rapl.sample(tick(1100))).to.deep.equal([
      { component: 'package', device: 'package-0', joules: 1.5, watts: 1.5 / 1.1 },
      { component: 'dram', device: 'dram-0', joules: 0, watts: 0, partial: true },
    ]);
    expect(warnings().map((w) => w.msg)).to.have.length(1);
    expect(warnings()[0].msg).to.include('cannot be read; dram-0 is left out until it reads again');
  });

  it('root-only energy_uj (none read early): the probe fails as it did, with no word of the early baseline', async () => {
    buildPowercapTree(dir, ONE_SOCKET);
    const denied: ReadText = (path) => {
      if (path.endsWith('energy_uj')) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
          code: 'EACCES',
        });
      }
      return readFileSync(path, 'latin1');
    };
    const early = readZoneCounters(dir, denied);
    expect(early.size).to.equal(0);
    const { logger, warnings } = captureLogger();
    const rapl = createRaplSource({ root: dir, logger, early, read: denied });
    const probe = await rapl.probe();
    expect(probe).to.deep.include({ ok: false, fixable: true });
    expect(warnings()).to.deep.equal([]);
  });

  it('only the first probe takes the early counters: one probed again later counts from its own reading', async () => {
    buildPowercapTree(dir, ONE_SOCKET);
    const early = readZoneCounters(dir, readSysText);
    let locked = true;
    const read: ReadText = (path) => {
      if (locked && path.endsWith('energy_uj')) {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      }
      return readFileSync(path, 'latin1');
    };
    const rapl = createRaplSource({ root: dir, logger: captureLogger().logger, early, read });
    expect((await rapl.probe()).ok).to.equal(false);
    locked = false;
    setEnergy(dir, 'intel-rapl:0', 90_000_000);
    expect((await rapl.probe()).ok).to.equal(true);
    rapl.sample(start);
    setEnergy(dir, 'intel-rapl:0', 90_100_000);
    expect(microjoules(rapl.sample(tick(100)))).to.deep.include({ 'package-0': 100_000 });
  });
});
