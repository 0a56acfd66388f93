/**
 * What `carbonscope run` wrote on a real NVIDIA H200 beside the real nvidia-smi and pmon
 * (test/fixtures/energy/h200/call7, tools/device/go9.sh): its emissions.csv read back as a
 * CodeCarbon user would, against the --json report of the same runs. The figures are real, so
 * the checks are the relations between columns that must hold whatever the machine measured.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { formatRow, parseEmissionsCsv } from '../../../src/cli/csv.js';
import { type HostFacts, type Report, reportToRow } from '../../../src/cli/report.js';
import { libraryRoot } from '../../../src/paths.js';

const JOULES_PER_KWH = 3.6e6;

interface ComponentJson {
  component: string;
  source: string;
  estimated: boolean;
  joules: number;
}

interface RunJson {
  runId: string;
  durationSeconds: number;
  energy: { joules: number; known: boolean; unknownReason?: string; components: ComponentJson[] };
  host: { components: ComponentJson[]; gpus: Array<{ device: string; name: string }> };
  grid: { zone: string; carbonIntensity: number };
  measurement: { gpuShare?: { read: boolean } };
}

const fixture = (...parts: string[]) =>
  readFileSync(join(libraryRoot, 'test', 'fixtures', ...parts), 'utf8');
const runJson = (name: string): RunJson => JSON.parse(fixture('energy', 'h200', 'call7', name));
const gpuJoules = (components: ComponentJson[]) =>
  components.find((c) => c.component === 'gpu')?.joules;

/** The host columns of a written row, so the row can be written again from its report. */
function hostOf(row: Record<string, string>): HostFacts {
  return {
    os: row.os ?? '',
    cpuCount: Number(row.cpu_count),
    cpuModel: row.cpu_model,
    ramTotalGb: Number(row.ram_total_size),
    ramUsedGb: Number(row.ram_used_gb),
    ramUtilizationPercent: Number(row.ram_utilization_percent),
  };
}

/** The row this carbonscope writes for a report of call7, as the CSV reads it back. */
function rowNow(name: string, written: Record<string, string>): Record<string, string> {
  const report = JSON.parse(fixture('energy', 'h200', 'call7', name)) as Report;
  const text = formatRow(reportToRow(report, hostOf(written), new Date(report.endedAt)));
  const [record = {}] = parseEmissionsCsv(`${Object.keys(written).join(',')}\n${text}\n`).records;
  // Local time where it ran; the rest is the report's.
  return { ...record, timestamp: written.timestamp ?? '' };
}

describe('run on a real H200: the CodeCarbon CSV beside the report (call7)', () => {
  const csv = parseEmissionsCsv(fixture('energy', 'h200', 'call7', 'emissions.csv'));
  const [loadRow, idleRow] = csv.records;
  const load = runJson('load.json');
  const idle = runJson('idle.json');

  it("writes CodeCarbon 3.3.2's own header, one row per run, in the order they ran", () => {
    const theirs = parseEmissionsCsv(fixture('codecarbon', 'emissions-formats.csv')).header;
    expect(csv.header).to.deep.equal(theirs);
    expect(csv.records.map((r) => r.run_id)).to.deep.equal([load.runId, idle.runId]);
  });

  it("a GPU load's row adds up: its parts, its report, its emissions and its power", () => {
    const n = (column: string) => Number(loadRow?.[column]);
    expect(load.energy.known).to.equal(true);
    expect(n('duration')).to.equal(load.durationSeconds);
    // A process's row has CPU and GPU; `dynamic` gives it no share of the estimate's idle RAM
    // power, so no RAM column (CodeCarbon's process mode would model its memory's).
    expect(loadRow?.ram_energy).to.equal('');
    expect(n('energy_consumed')).to.be.closeTo(n('cpu_energy') + n('gpu_energy'), 1e-12);
    expect(n('energy_consumed') * JOULES_PER_KWH).to.be.closeTo(load.energy.joules, 1e-6);
    expect(n('pue')).to.equal(1);
    expect(n('emissions')).to.be.closeTo(
      (n('energy_consumed') * load.grid.carbonIntensity) / 1000,
      1e-12,
    );
    expect(n('gpu_power')).to.be.closeTo((n('gpu_energy') * JOULES_PER_KWH) / n('duration'), 1e-9);
    expect(n('emissions_rate')).to.be.closeTo(n('emissions') / n('duration'), 1e-15);
  });

  it("gives the command a share of the GPU's measured energy, never more than the GPU's", () => {
    const command = gpuJoules(load.energy.components) ?? Number.NaN;
    const whole = gpuJoules(load.host.components) ?? Number.NaN;
    expect(load.measurement.gpuShare).to.deep.equal({ read: true });
    expect(Number(loadRow?.gpu_energy) * JOULES_PER_KWH).to.be.closeTo(command, 1e-6);
    // 8 s of matrix products inside 15.4 s of Python and CUDA start-up: most, not all.
    expect(command / whole).to.be.within(0.5, 1);
    expect(loadRow?.gpu_count).to.equal('1');
    expect(loadRow?.gpu_model).to.equal('1 x NVIDIA H200');
    expect(Number(loadRow?.gpu_utilization_percent)).to.be.within(1, 100);
  });

  it('an idle command: no energy figure written, the GPU still counted and idle', () => {
    expect(idle.energy.known).to.equal(false);
    expect(idle.energy.unknownReason).to.match(/10 ms/);
    for (const column of ['emissions', 'energy_consumed', 'cpu_energy', 'cpu_power']) {
      expect(idleRow?.[column], column).to.equal('');
    }
    expect(gpuJoules(idle.host.components)).to.be.greaterThan(0);
    expect(idleRow?.gpu_count).to.equal('1');
    expect(idleRow?.gpu_utilization_percent).to.equal('0.0');
  });

  it("writes an idle command's measured 0 J GPU share as 0, as its report has it", () => {
    // pmon saw nothing of it on the SMs: its GPU share is a measured 0 J in the report, though
    // its CPU time resolves nothing. The row of 0231c0e left it empty with the unknown rest.
    expect(idle.measurement.gpuShare).to.deep.equal({ read: true });
    expect(gpuJoules(idle.energy.components)).to.equal(0);
    const now = rowNow('idle.json', idleRow ?? {});
    expect(now.gpu_energy).to.equal('0.0');
    expect(now.gpu_power).to.equal('0.0');
    // Every other column as written there: the unknown ones still empty.
    expect({ ...now, gpu_energy: '', gpu_power: '' }).to.deep.equal(idleRow);
  });

  it("writes a GPU load's row again from its report as it was written", () => {
    expect(rowNow('load.json', loadRow ?? {})).to.deep.equal(loadRow);
  });
});
