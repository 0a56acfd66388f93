import type { CpuInfo } from 'node:os';
import { expect } from 'chai';
import { cpuVendor } from '../../../../src/energy/sources/cpu-vendor.js';

/** A read the permission model refuses, as Node throws it. */
const refused = (): string => {
  throw Object.assign(new Error('Access to this API has been restricted'), {
    code: 'ERR_ACCESS_DENIED',
  });
};
const cpusOf = (model: string): (() => CpuInfo[]) => {
  return () => [{ model, speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }];
};

describe('cpuVendor', () => {
  it("reads /proc/cpuinfo's vendor_id", () => {
    const readCpuinfo = () => 'processor\t: 0\nvendor_id\t: AuthenticAMD\n';
    expect(cpuVendor({ readCpuinfo, listCpus: cpusOf('Intel(R) Xeon(R)') })).to.equal(
      'AuthenticAMD',
    );
  });

  for (const [model, vendor] of [
    ['AMD EPYC 9654 96-Core Processor', 'AuthenticAMD'],
    ['Hygon C86 7285 32-core Processor', 'HygonGenuine'],
    ['Intel(R) Xeon(R) Platinum 8480+', 'GenuineIntel'],
  ]) {
    it(`tells ${vendor} by the model name where /proc/cpuinfo is refused (${model})`, () => {
      expect(cpuVendor({ readCpuinfo: refused, listCpus: cpusOf(model) })).to.equal(vendor);
    });
  }

  it('is undefined where neither tells (a /proc mounted subset=pid lists no CPU)', () => {
    expect(cpuVendor({ readCpuinfo: refused, listCpus: () => [] })).to.equal(undefined);
    expect(cpuVendor({ readCpuinfo: refused, listCpus: cpusOf('ARMv8 Processor') })).to.equal(
      undefined,
    );
  });
});
