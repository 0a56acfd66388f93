/**
 * The nvidia-smi source end to end on what a real NVIDIA H200 printed under a matrix-product
 * load (test/fixtures/energy/h200/call1/nvidia-smi-load.csv, `-lms 250`, verbatim): a fake
 * nvidia-smi prints it through a pipe at the recorded pace (25 s) and the source's energy is
 * checked against a figure the test computes from the file alone.
 */
import { expect } from 'chai';
import { createNvidiaSmiSource, NVIDIA_SMI_QUERY } from '../../src/energy/sources/nvidia-smi.js';
import type { EnergyReading } from '../../src/energy/sources/source.js';
import { waitFor } from '../helpers/wait.js';
import {
  captureLogger,
  fixtureText,
  type PacedLine,
  tempDir,
  tick,
  writePacedBinary,
} from '../unit/energy/sources/helpers.js';

const INTERVAL_MS = 250;
/** Idle on this GPU (nvidia-smi-idle.csv) and its power limit (nvidia-smi-fields.txt). */
const IDLE_WATTS = 77;
const LIMIT_WATTS = 700;

describe('nvidia-smi: the H200 load capture replayed at its pace', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir('h200-load'));
  });
  after(() => cleanup());

  it('the energy drained agrees with the file within 1 %, between idle and the limit, none partial', async () => {
    const rows = fixtureText('h200/call1/nvidia-smi-load.csv').trimEnd().split('\n');
    const lines: PacedLine[] = rows.map((text, i) => [i * INTERVAL_MS, text]);
    // The independent figure: each line's power held for the interval before it (power.draw is
    // a trailing 1 s average on this GPU), over the 99 intervals from the first line to the last.
    const watts = rows.map((r) => Number(r.split(', ')[3]));
    const expectedJoules = watts.slice(1).reduce((sum, w) => sum + w * (INTERVAL_MS / 1000), 0);
    expect(expectedJoules).to.be.closeTo(10_330.9, 0.05);

    const binary = writePacedBinary(dir, 'nvidia-smi', lines, [
      ...NVIDIA_SMI_QUERY,
      '-lms',
      String(INTERVAL_MS),
    ]);
    let arrivals = 0;
    let sampling = false;
    const clock = () => {
      if (!sampling) arrivals++;
      return performance.now();
    };
    const { logger, warnings } = captureLogger();
    const source = createNvidiaSmiSource({ logger, intervalMs: INTERVAL_MS, binary, clock });
    const readings: EnergyReading[] = [];
    const drain = () => {
      sampling = true;
      readings.push(...source.sample(tick(1000)));
      sampling = false;
    };
    try {
      expect(await source.probe()).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA H200' });
      // Drained as a meter would, once a second; every clock call outside sample() is a line.
      const timer = setInterval(drain, 1000);
      try {
        await waitFor('every recorded row to arrive', () => arrivals >= rows.length, 45_000);
      } finally {
        clearInterval(timer);
      }
      drain();
    } finally {
      await source.close();
    }
    expect(readings.length).to.be.greaterThan(20);
    expect(new Set(readings.map((r) => r.device))).to.deep.equal(new Set(['gpu0']));
    expect(readings.filter((r) => r.partial)).to.deep.equal([]);
    const joules = readings.reduce((sum, r) => sum + r.joules, 0);
    const seconds = readings.reduce((sum, r) => sum + (r.watts > 0 ? r.joules / r.watts : 0), 0);
    expect(joules).to.be.closeTo(expectedJoules, expectedJoules * 0.01);
    const average = joules / seconds;
    expect(average).to.be.within(IDLE_WATTS, LIMIT_WATTS);
    expect(seconds).to.be.closeTo(((rows.length - 1) * INTERVAL_MS) / 1000, 0.5);
    expect(warnings()).to.deep.equal([]);
  });
});
