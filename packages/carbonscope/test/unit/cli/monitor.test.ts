import { expect } from 'chai';
import { formatMonitorLine } from '../../../src/cli/monitor.js';
import type { IntensityReading, IntensitySource } from '../../../src/grid/index.js';
import { sampleAt } from '../energy/scripted.js';

const AT = new Date('2025-01-01T20:14:03Z');

function reading(source: IntensitySource, isEstimated: boolean): IntensityReading {
  return {
    zone: 'DE',
    carbonIntensity: 342,
    unit: 'gCO2e/kWh',
    source,
    isEstimated,
    stale: false,
    ageSeconds: 0,
    datetime: null,
    fetchedAt: AT.toISOString(),
  };
}

/** A sample of 10.97 W, CPU 12 %, whose power was `estimated` or measured. */
function sample(estimated: boolean, intensity: IntensityReading | null) {
  return { ...sampleAt(0, 0, 0, estimated), hostWatts: 10.97, hostUtilization: 0.12, intensity };
}

describe('monitor lines', () => {
  it('label estimated power and an estimated grid intensity as estimates', () => {
    const line = formatMonitorLine(
      AT,
      sample(true, reading('annual-average', true)),
      1.12,
      1.06e-4,
    );
    expect(line).to.equal(
      '20:14:03  10.97 W (estimated)  · 1.12 J so far · 0.106 mg CO2e (annual-average, estimated)  · CPU 12%\n',
    );
  });

  it('leave measured power, a live intensity and CARBON_INTENSITY unlabelled', () => {
    for (const intensity of [reading('electricity-maps', false), reading('fixed', false)]) {
      expect(formatMonitorLine(AT, sample(false, intensity), 1.12, 1.06e-4)).to.equal(
        '20:14:03  10.97 W  · 1.12 J so far · 0.106 mg CO2e  · CPU 12%\n',
      );
    }
  });
});
