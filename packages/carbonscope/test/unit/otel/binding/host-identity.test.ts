import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { CarbonscopeInstrumentation } from '../../../../src/instrumentation.js';
import { HOST_IDENTITY, METRICS } from '../../../../src/metrics/index.js';
import { currentHostIdentity, hostIdentity } from '../../../../src/otel/binding/host-identity.js';
import { startDefault, stopDefault } from '../../../../src/otel/default.js';
import { SCOPE } from '../../../../src/otel/scope.js';
import { ManualReader } from '../../../helpers/metrics.js';
import { memoryLogger, testConfig } from '../../energy/scripted.js';

const BOOT = '82144c4b-593c-4cfb-aa40-585785a44f0a';
const linux = (env: Record<string, string>, ...bootId: [string?]) =>
  hostIdentity({ env, platform: 'linux', bootId: () => (bootId.length ? bootId[0] : BOOT) });

describe('the host identity on host-level series', () => {
  // Pods on one node have hostnames of their own but share the kernel, its boot id and RAPL.
  it("is the kernel's boot id on Linux", () => {
    expect(linux({}, `${BOOT.toUpperCase()}\n`)).to.equal(BOOT);
  });

  it("is the deployer's host.id, else host.name, from OTEL_RESOURCE_ATTRIBUTES", () => {
    const both = 'service.name=api, host.name=node-7 ,host.id=i-0abc%2C1';
    expect(linux({ OTEL_RESOURCE_ATTRIBUTES: both })).to.equal('i-0abc,1');
    expect(linux({ OTEL_RESOURCE_ATTRIBUTES: 'host.name=node-7' })).to.equal('node-7');
    expect(linux({ OTEL_RESOURCE_ATTRIBUTES: 'host.id=,host.name=node-7' })).to.equal('node-7');
  });

  // The SDK drops every attribute for one bad item; the host is still the one its deployer named,
  // as its replicas with a well-formed variable name it.
  it('skips a malformed resource item, and falls back to the boot id where none is left', () => {
    expect(linux({ OTEL_RESOURCE_ATTRIBUTES: 'host.id=i-1,a=%zz,broken' })).to.equal('i-1');
    expect(linux({ OTEL_RESOURCE_ATTRIBUTES: 'host.id=%zz,broken' })).to.equal(BOOT);
  });

  it('is absent where nothing names the host: no boot id, a garbled one, another platform', () => {
    expect(linux({}, undefined)).to.equal(undefined);
    expect(linux({}, 'not a boot id')).to.equal(undefined);
    expect(hostIdentity({ env: {}, platform: 'darwin', bootId: () => BOOT })).to.equal(undefined);
    const named = { OTEL_RESOURCE_ATTRIBUTES: 'host.name=mac-1' };
    expect(hostIdentity({ env: named, platform: 'darwin', bootId: () => undefined })).to.equal(
      'mac-1',
    );
  });
});

describe('carbonscope.host on the collected series', function () {
  this.timeout(20_000);

  it('is on every host-scope series and on no process-scope one', async () => {
    const reader = new ManualReader();
    const mp = new MeterProvider({ readers: [reader] });
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      logger: memoryLogger().logger,
    });
    try {
      instrumentation.setMeterProvider(mp);
      await instrumentation.ready();
      const cs = await startDefault();
      await cs.meter.firstSample();
      cs.meter.sampleNow();
      const { resourceMetrics } = await reader.collect();
      const points = resourceMetrics.scopeMetrics
        .filter((s) => s.scope.name === SCOPE.name)
        .flatMap((s) => s.metrics)
        .flatMap((m) =>
          m.dataPoints.map((p): Record<string, unknown> & { name: string } => ({
            ...p.attributes,
            name: m.descriptor.name,
          })),
        );
      // The partial intervals are counted per host component series, as hw.energy is.
      const hostLevel = points.filter(
        (p) =>
          p.name.startsWith('hw.') ||
          p.name === METRICS.energyPartial.name ||
          p['carbonscope.scope'] === 'host',
      );
      const rest = points.filter((p) => !hostLevel.includes(p));
      const names = new Set(hostLevel.map((p) => p.name));
      const perHost = ['hw.host.energy', 'hw.host.power', 'hw.energy', 'hw.power'];
      for (const name of [...perHost, METRICS.energyPartial.name]) {
        expect(names, name).to.include(name);
      }
      expect(names).to.include('carbonscope.emission_rate');
      const want = currentHostIdentity();
      if (process.platform === 'linux') expect(want).to.match(/^[0-9a-f-]{36}$/);
      for (const p of hostLevel) expect(p[HOST_IDENTITY], p.name).to.equal(want);
      expect(rest.length).to.be.above(0);
      for (const p of rest) expect(p, p.name).to.not.have.property(HOST_IDENTITY);
    } finally {
      instrumentation.disable();
      await stopDefault();
      await mp.shutdown();
    }
  });
});
