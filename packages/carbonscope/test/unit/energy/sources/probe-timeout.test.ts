import { expect } from 'chai';
import { createNvidiaSmiSource } from '../../../../src/energy/sources/nvidia-smi.js';
import { createPowermetricsSource } from '../../../../src/energy/sources/powermetrics.js';
import { selectSources } from '../../../../src/energy/sources/select.js';
import { loadSettings } from '../../../../src/settings.js';
import { captureLogger } from './helpers.js';

/**
 * Taken as given, setTimeout made each of these 1 ms (with a process warning): NaN, a negative
 * and anything past 2^31 - 1 ms failed the probe of a GPU that answers in 20 ms.
 */
const BAD = [Number.NaN, -1, 0, Number.POSITIVE_INFINITY, 2 ** 31, 1e12];

describe('energy/sources probeTimeoutMs', () => {
  const { logger } = captureLogger();

  it('nvidia-smi and powermetrics refuse a probe timeout that is no wait, naming it', () => {
    for (const probeTimeoutMs of BAD) {
      expect(
        () => createNvidiaSmiSource({ logger, intervalMs: 1000, probeTimeoutMs }),
        String(probeTimeoutMs),
      ).to.throw(RangeError, /probeTimeoutMs: expected a number of ms from 1 to 600000, got /);
      expect(
        () => createPowermetricsSource({ logger, intervalMs: 1000, probeTimeoutMs }),
        String(probeTimeoutMs),
      ).to.throw(RangeError, /probeTimeoutMs/);
    }
  });

  it('selectSources refuses one before probing anything, even for the estimate alone', async () => {
    const config = loadSettings({ ENERGY_SOURCE: 'estimate' });
    let error: unknown;
    await selectSources({ config, logger, probeTimeoutMs: Number.NaN }).catch((err) => {
      error = err;
    });
    expect(error).to.be.instanceOf(RangeError);
    expect(String(error)).to.match(/probeTimeoutMs: .*got NaN/);
  });

  it('takes 1 ms to 10 minutes, and leaves the default when unset', () => {
    for (const probeTimeoutMs of [1, 2.5, 20_000, 600_000, undefined]) {
      expect(() =>
        createNvidiaSmiSource({ logger, intervalMs: 1000, probeTimeoutMs }),
      ).not.to.throw();
    }
  });
});
