import { expect } from 'chai';
import {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  createEstimateSource,
  RAM_WATTS_PER_GB,
  TDP_WATTS_PER_THREAD,
} from '../../../../src/energy/sources/estimate.js';
import { loadSettings } from '../../../../src/settings.js';
import { tick } from './helpers.js';

const GIB = 1024 ** 3;

describe('energy/sources/estimate', () => {
  it('its named constants are the documented defaults of the settings', () => {
    const e = loadSettings({}).energy;
    expect([e.cpuModel, e.cpuMinWattsPerVcpu, e.cpuMaxWattsPerVcpu, e.ramWattsPerGb]).to.deep.equal(
      ['linear', AWS_MIN_WATTS_PER_VCPU, AWS_MAX_WATTS_PER_VCPU, RAM_WATTS_PER_GB],
    );
    expect(TDP_WATTS_PER_THREAD).to.equal(4);
  });

  it('linear model at 25 % of 4 vCPUs: 4 × (0.74 + 0.25 × 2.76) = 5.72 W; RAM 16 GiB × 0.392', () => {
    const source = createEstimateSource({
      settings: loadSettings({}).energy,
      totalMemoryBytes: 16 * GIB,
    });
    expect(source.estimated).to.equal(true);
    expect(source.name).to.equal('estimate');
    const readings = source.sample(tick(2000, { activeSeconds: 2, totalSeconds: 8, cpus: 4 }));
    const cpu = readings.find((r) => r.component === 'cpu');
    const ram = readings.find((r) => r.component === 'ram');
    expect(cpu?.watts).to.be.closeTo(5.72, 1e-12);
    expect(cpu?.joules).to.be.closeTo(11.44, 1e-12);
    expect(ram?.watts).to.be.closeTo(6.272, 1e-12);
    expect(ram?.joules).to.be.closeTo(12.544, 1e-12);
    // A constant: idle power, which the dynamic attribution gives to no process.
    expect(ram?.idle).to.equal(true);
    expect(cpu?.idle).to.equal(undefined);
  });

  it('names the RAM figure per GiB, the unit it is applied in (was W/GB)', async () => {
    const source = createEstimateSource({
      settings: loadSettings({}).energy,
      totalMemoryBytes: GIB,
    });
    const probed = await source.probe();
    expect(probed.ok && probed.detail).to.equal('linear 0.74-3.5 W/vCPU, RAM 0.392 W/GiB');
  });

  it('linear model follows overridden per-vCPU figures (GCP 0.71 / 4.26), idle and busy', () => {
    const settings = loadSettings({
      ENERGY_CPU_MIN_WATTS_PER_VCPU: '0.71',
      ENERGY_CPU_MAX_WATTS_PER_VCPU: '4.26',
    }).energy;
    const source = createEstimateSource({ settings, totalMemoryBytes: 0 });
    const idle = source.sample(tick(1000, { activeSeconds: 0, totalSeconds: 2, cpus: 2 }));
    const busy = source.sample(tick(1000, { activeSeconds: 2, totalSeconds: 2, cpus: 2 }));
    expect(idle[0].watts).to.be.closeTo(1.42, 1e-12);
    expect(busy[0].watts).to.be.closeTo(8.52, 1e-12);
  });

  it('TDP model: 4 W per thread when the TDP is unknown, 0.1 + 0.9 × load³', () => {
    const settings = loadSettings({ ENERGY_CPU_MODEL: 'tdp' }).energy;
    const source = createEstimateSource({ settings, totalMemoryBytes: 0 });
    // 8 threads → 32 W TDP; load 0.5 → 32 × (0.1 + 0.9 × 0.125) = 6.8 W
    const [cpu] = source.sample(tick(1000, { activeSeconds: 4, totalSeconds: 8, cpus: 8 }));
    expect(cpu.watts).to.be.closeTo(6.8, 1e-12);
  });

  it('TDP model with a known TDP: 65 W at full load, 6.5 W idle', () => {
    const settings = loadSettings({ ENERGY_CPU_MODEL: 'tdp', ENERGY_CPU_TDP_WATTS: '65' }).energy;
    const source = createEstimateSource({ settings, totalMemoryBytes: 0 });
    const [full] = source.sample(tick(1000, { activeSeconds: 8, totalSeconds: 8, cpus: 8 }));
    const [idle] = source.sample(tick(1000, { activeSeconds: 0, totalSeconds: 8, cpus: 8 }));
    expect(full.watts).to.be.closeTo(65, 1e-12);
    expect(idle.watts).to.be.closeTo(6.5, 1e-12);
  });

  it('no elapsed time or no CPU time: finite, non-negative, zero energy', () => {
    const source = createEstimateSource({ settings: loadSettings({}).energy, cpus: 2 });
    for (const r of source.sample(tick(0, { activeSeconds: 0, totalSeconds: 0, cpus: 0 }))) {
      expect(r.joules).to.equal(0);
      expect(Number.isFinite(r.watts) && r.watts >= 0).to.equal(true);
    }
  });
});
