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
    ['AMD Ryzen 9 7950X 16-Core Processor', 'AuthenticAMD'],
    ['AMD EPYC Processor (with IBPB)', 'AuthenticAMD'],
    ['Hygon C86 7285 32-core Processor', 'HygonGenuine'],
    ['Intel(R) Xeon(R) Platinum 8480+', 'GenuineIntel'],
  ]) {
    it(`tells ${vendor} by the model name where /proc/cpuinfo is refused (${model})`, () => {
      expect(cpuVendor({ readCpuinfo: refused, listCpus: cpusOf(model) })).to.equal(vendor);
    });
  }

  // A guess of AMD keeps one die zone per package: only a name that says AMD may make it, as a
  // VM's generic model, unknown, keeps the sum of every zone RAPL gives.
  for (const model of ['QEMU Virtual CPU version 2.5+', 'Common KVM processor', 'unknown']) {
    it(`is undefined for a model that names no maker (${model})`, () => {
      expect(cpuVendor({ readCpuinfo: refused, listCpus: cpusOf(model) })).to.equal(undefined);
    });
  }

  it('is undefined where neither tells (a /proc mounted subset=pid lists no CPU)', () => {
    expect(cpuVendor({ readCpuinfo: refused, listCpus: () => [] })).to.equal(undefined);
    expect(cpuVendor({ readCpuinfo: refused, listCpus: cpusOf('ARMv8 Processor') })).to.equal(
      undefined,
    );
  });
});
