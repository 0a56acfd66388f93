/**
 * Replays what nvidia-smi printed on a real NVIDIA H200 (driver 580.159.04, in a Firecracker VM),
 * verbatim from test/fixtures/energy/h200/call1 (its README says how it was captured).
 * The 25 s load replay at the recorded pace is in test/integration/nvidia-smi-h200.test.ts.
 */
import { expect } from 'chai';
import {
  createNvidiaSmiSource,
  NVIDIA_SMI_QUERY,
  parseNvidiaSmiLine,
} from '../../../../src/energy/sources/nvidia-smi.js';
import type { EnergyReading } from '../../../../src/energy/sources/source.js';
import { waitFor } from '../../../helpers/wait.js';
import {
  captureLogger,
  fixtureText,
  type PacedLine,
  tempDir,
  tick,
  writePacedBinary,
} from './helpers.js';

const H200_UUID = 'GPU-d8e27244-0719-2aa8-0140-8c7d084b3152';
/** The H200 of call6: another task's machine, another board (its own uuid). */
const SECOND_H200_UUID = 'GPU-79331736-3a85-084c-9038-e97433091e53';

function h200Lines(file: string, call = 'call1'): string[] {
  return fixtureText(`h200/${call}/${file}`).trimEnd().split('\n');
}

/**
 * stamp-piped.txt: `ms since spawn <TAB> line` as a pipe delivered each line of
 * `nvidia-smi ... -lms 200`, then the stamper's own `exit <TAB> code signal` line.
 */
function stampedLines(): { lines: PacedLine[]; trailer: string[] } {
  const lines: PacedLine[] = [];
  const trailer: string[] = [];
  for (const row of h200Lines('stamp-piped.txt')) {
    const tab = row.indexOf('\t');
    const at = Number(row.slice(0, tab));
    if (Number.isFinite(at)) lines.push([at, row.slice(tab + 1)]);
    else trailer.push(row);
  }
  return { lines, trailer };
}

/** The power column as nvidia-smi wrote it, read without the parser under test. */
const lastColumn = (line: string) => Number(line.slice(line.lastIndexOf(',') + 1));

describe('energy/sources/nvidia-smi on the H200 capture', () => {
  it('every line at idle, under load and through a pipe parses: gpu 0, its uuid, its name, watts', () => {
    const stamped = stampedLines();
    expect(stamped.trailer).to.deep.equal(['exit\t0 null']);
    const files = {
      'nvidia-smi-idle.csv': h200Lines('nvidia-smi-idle.csv'),
      'nvidia-smi-load.csv': h200Lines('nvidia-smi-load.csv'),
      'stamp-piped.txt': stamped.lines.map(([, text]) => text),
    };
    expect(Object.values(files).map((l) => l.length)).to.deep.equal([20, 100, 15]);
    for (const [file, lines] of Object.entries(files)) {
      for (const line of lines) {
        const watts = lastColumn(line);
        expect(watts, `${file}: ${line}`).to.be.within(70, 750);
        expect(parseNvidiaSmiLine(line), `${file}: ${line}`).to.deep.equal({
          index: 0,
          uuid: H200_UUID,
          name: 'NVIDIA H200',
          watts,
        });
      }
    }
  });

  it("a second board's capture (call6) parses alike: its uuid, idle ~78 W, ~690 W under load", () => {
    const idle = h200Lines('nvidia-smi-idle.csv', 'call6');
    const load = h200Lines('nvidia-smi-load.csv', 'call6');
    expect([idle.length, load.length]).to.deep.equal([20, 100]);
    for (const line of [...idle, ...load]) {
      expect(parseNvidiaSmiLine(line), line).to.deep.equal({
        index: 0,
        uuid: SECOND_H200_UUID,
        name: 'NVIDIA H200',
        watts: lastColumn(line),
      });
    }
    const watts = (lines: string[]) => lines.map(lastColumn);
    expect(Math.max(...watts(idle))).to.be.within(70, 100);
    expect(Math.max(...watts(load))).to.be.within(600, 750);
  });

  describe('through a pipe, at the pace it was recorded', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => {
      ({ dir, cleanup } = tempDir('h200'));
    });
    afterEach(() => cleanup());

    // What a pipe delivered from the real nvidia-smi: one GPU's line per 200 ms interval, the
    // first 21.5 ms after spawn, never two at once. The probe must settle on that stream, not
    // wait for a burst of lines (or the probe timeout, 2.6 s here, before the 15th line).
    it('the probe settles on one line per interval, and the stream integrates to its idle power', async () => {
      const { lines } = stampedLines();
      const binary = writePacedBinary(dir, 'nvidia-smi', lines, [
        ...NVIDIA_SMI_QUERY,
        '-lms',
        '200',
      ]);
      let arrivals = 0;
      let sampling = false;
      const clock = () => {
        if (!sampling) arrivals++;
        return performance.now();
      };
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({ logger, intervalMs: 200, binary, clock });
      try {
        expect(await source.probe()).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA H200' });
        // sample() is not called until then, so every other clock call is a line arriving.
        await waitFor('every recorded line to arrive', () => arrivals >= lines.length, 10_000);
        sampling = true;
        const readings: EnergyReading[] = source.sample(tick(3000));
        expect(readings).to.have.length(1);
        const [gpu] = readings;
        expect(gpu.device).to.equal('gpu0');
        expect(gpu.partial).to.equal(undefined);
        const watts = lines.map(([, text]) => lastColumn(text));
        expect(gpu.watts).to.be.within(Math.min(...watts), Math.max(...watts));
        // 14 intervals between the first line and the last, timed by when they arrived.
        const seconds = gpu.joules / gpu.watts;
        const recorded = (lines[lines.length - 1][0] - lines[0][0]) / 1000;
        expect(seconds).to.be.closeTo(recorded, 0.5);
        expect(warnings()).to.deep.equal([]);
      } finally {
        await source.close();
      }
    });
  });
});
