import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import countries from 'i18n-iso-countries';
import {
  CODECARBON_COLUMNS,
  CSV_HEADER,
  formatRow,
  parseEmissionsCsv,
} from '../../../src/cli/csv.js';
import {
  buildReport,
  codeCarbonGpuModel,
  codeCarbonTimestamp,
  countryOfZone,
  type HostFacts,
  hostFacts,
  pythonPlatform,
  RamUseMean,
  reportToRow,
} from '../../../src/cli/report.js';
import { formatDuration, formatSummary } from '../../../src/cli/summary.js';
import {
  TREE_CPU_LOWER_BOUND_TEXT,
  TREE_CPU_RESOLUTION_SECONDS,
  TREE_CPU_UNMEASURED_TEXT,
} from '../../../src/cli/tree-cpu/index.js';
import { gramsPerJoule } from '../../../src/emissions.js';
import type { EnergySnapshot } from '../../../src/energy/index.js';
import { libraryRoot } from '../../../src/paths.js';

const HOST: HostFacts = {
  os: 'Linux-6.1-x86_64',
  cpuCount: 8,
  cpuModel: 'Test CPU',
  ramTotalGb: 16,
  ramUsedGb: 4,
  ramUtilizationPercent: 25,
};

/** A meter snapshot after a 10 s run: RAPL package and dram measured, one GPU. */
function snapshot(overrides: Partial<EnergySnapshot> = {}): EnergySnapshot {
  const figure = (
    scope: 'host' | 'process',
    component: 'package' | 'dram' | 'gpu',
    source: string,
    joules: number,
  ) => ({ scope, component, source, estimated: false, watts: joules / 10, joules });
  return {
    startedAt: '2024-01-01T00:00:00.000Z',
    sampledAt: '2024-01-01T00:00:10.000Z',
    samples: 10,
    sampleIntervalMs: 1000,
    attribution: { mode: 'dynamic', processShare: 0.5, hostUtilization: 0.6 },
    sources: [
      { name: 'rapl', kind: 'host', estimated: false },
      { name: 'nvidia-smi', kind: 'gpu', estimated: false },
    ],
    reasons: ['measured: rapl package-0'],
    grid: {
      zone: 'DE',
      carbonIntensity: 400,
      unit: 'gCO2e/kWh',
      source: 'electricity-maps',
      estimated: false,
      stale: false,
    },
    pue: 1.2,
    embodied: {
      profile: 'server',
      totalKg: 1000,
      lifetimeYears: 4,
      hostVcpus: 2,
      reservedVcpus: 2,
      source: 'a test host',
      gramsPerSecond: 0.008,
      estimated: true,
    },
    power: [
      figure('host', 'package', 'rapl', 300),
      figure('host', 'dram', 'rapl', 60),
      figure('host', 'gpu', 'nvidia-smi', 900),
      figure('process', 'package', 'rapl', 180),
      figure('process', 'dram', 'rapl', 36),
    ],
    totals: {
      host: {
        joules: 1260,
        watts: 126,
        grams: 0.168,
        gramsPerSecond: 0.0168,
        estimated: false,
        wattsEstimated: false,
        estimatedJoules: 0,
        embodiedGrams: 0.08,
        embodiedGramsPerSecond: 0.008,
      },
      process: {
        joules: 216,
        watts: 21.6,
        grams: 0.0288,
        gramsPerSecond: 0.00288,
        estimated: false,
        wattsEstimated: false,
        estimatedJoules: 0,
        embodiedGrams: 0.012,
        embodiedGramsPerSecond: 0.0012,
      },
    },
    emissions: [],
    droppedReadings: 0,
    unpricedJoules: 0,
    droppedOperations: 0,
    operations: [],
    ...overrides,
  };
}

/** The same run, its every figure from the estimate (no meter). */
function modelledSnapshot(): EnergySnapshot {
  const { totals, power } = snapshot();
  return snapshot({
    sources: [{ name: 'estimate', kind: 'host', estimated: true }],
    power: power.map((figure) => ({ ...figure, source: 'estimate', estimated: true })),
    totals: {
      host: { ...totals.host, estimated: true },
      process: { ...totals.process, estimated: true },
    },
  });
}

const base = {
  projectName: 'demo',
  runId: '00000000-0000-4000-8000-000000000000',
  startedAt: new Date('2024-01-01T00:00:00Z'),
  endedAt: new Date('2024-01-01T00:00:10Z'),
  durationSeconds: 10,
  cpuUtilizationPercent: 60,
};

/** The command's CPU time as ps reads it: a lower bound (see TREE_CPU_LOWER_BOUND_TEXT). */
const FROM_PS = {
  seconds: 1.5,
  resolutionSeconds: TREE_CPU_RESOLUTION_SECONDS.ps,
  unmeasured: TREE_CPU_UNMEASURED_TEXT.ps,
  lowerBound: TREE_CPU_LOWER_BOUND_TEXT.ps,
};

describe('run report and CSV row', () => {
  // The host's CPU time unread after start: its last reading stood in, and said so only in a log.
  it('notes the intervals whose host CPU time a stand-in gave, and why', () => {
    const { attribution } = snapshot();
    const standIns = { intervals: 3, reason: '/proc/stat: EMFILE' };
    for (const command of ['run', 'monitor'] as const) {
      const report = buildReport({
        ...base,
        command,
        argv: command === 'run' ? ['true'] : [],
        snapshot: snapshot({ attribution: { ...attribution, hostCpuStandIns: standIns } }),
      });
      // monitor measures no process: where nothing was read yet, the host is taken as idle.
      const standIn =
        command === 'run'
          ? "its last reading stood in (the process's own CPU time where none was read yet), and the process's share and an estimated power rest on it"
          : 'its last reading stood in (idle where none was read yet), and an estimated power rests on it';
      expect(report.measurement.notes).to.include(
        `the host's CPU time was not read in 3 of 10 intervals (/proc/stat: EMFILE): ${standIn}`,
      );
    }
    expect(
      buildReport({
        ...base,
        command: 'run',
        argv: ['true'],
        snapshot: snapshot(),
      }).measurement.notes.join(' '),
    ).to.not.include('was not read in');
  });

  it('shows control characters of a command line or a CSV path escaped, never raw', () => {
    const report = buildReport({
      ...base,
      command: 'run',
      argv: ['printf', 'a\u001b[2Jb\nc', "it's\\"],
      snapshot: snapshot(),
    });
    report.exit = { code: 0, signal: null, exitCode: 0 };
    report.output = { path: 'x\u001b[2J\n.csv', written: true };
    const summary = formatSummary(report);
    expect(summary).to.contain("`printf $'a\\u001b[2Jb\\nc' 'it'\\''s\\'` exited with code 0");
    expect(summary).to.contain('CSV: appended a row to x\\u001b[2J\\n.csv\n');
    expect(summary).to.not.include('\u001b');
  });

  // Linux keeps no exit time: where run was stopped as the command ended, the headline says
  // between when it last ran and when it saw the exit, and the energy window apart.
  it('says when a command ended only as closely as a stopped run knows it', () => {
    const report = buildReport({
      ...base,
      command: 'run',
      argv: ['sleep', '2'],
      snapshot: snapshot(),
    });
    report.exit = { code: 0, signal: null, exitCode: 0, endedWithinSeconds: [1.01, 9.06] };
    expect(formatSummary(report).split('\n')[0]).to.equal(
      'carbonscope: `sleep 2` exited with code 0 between 1.01 s and 9.06 s in (carbonscope was ' +
        `stopped, blocked or starved of CPU meanwhile); measured over ${formatDuration(report.durationSeconds)}`,
    );
  });

  it('turns a run into a CodeCarbon row in its units: kWh, kg, W, process scope', () => {
    const report = buildReport({ ...base, command: 'run', argv: ['x'], snapshot: snapshot() });
    const row = reportToRow(report, HOST, base.endedAt);
    // Energy and power with the PUE (1.2), as CodeCarbon writes them.
    expect(row.cpu_energy).to.be.closeTo((180 * 1.2) / 3.6e6, 1e-15); // package is CPU energy
    expect(row.ram_energy).to.be.closeTo((36 * 1.2) / 3.6e6, 1e-15); // dram is RAM energy
    expect(row.energy_consumed).to.be.closeTo((216 * 1.2) / 3.6e6, 1e-15);
    expect(row.cpu_power).to.be.closeTo(18 * 1.2, 1e-9);
    expect(row.ram_power).to.be.closeTo(3.6 * 1.2, 1e-9);
    expect(row.emissions).to.be.closeTo(0.0288 / 1000, 1e-15);
    // 400 gCO2e/kWh: kg = kWh × 0.4.
    expect(row.emissions).to.be.closeTo(Number(row.energy_consumed) * 0.4, 1e-15);
    expect(row.emissions_rate).to.be.closeTo(0.0288 / 1000 / 10, 1e-15);
    expect(row.tracking_mode).to.equal('process');
    expect(row).to.include({
      country_iso_code: 'DEU',
      country_name: 'Germany',
      pue: 1.2,
      cpu_count: 8,
      cpu_model: 'Test CPU',
      project_name: 'demo',
      cpu_utilization_percent: 60,
    });
    // The GPU is not attributed to the command, and the summary says so.
    expect(row.gpu_energy).to.equal(undefined);
    expect(report.measurement.notes.join(' ')).to.match(/GPU energy is the whole devices/);
    // What is not known stays empty, never invented.
    for (const unknown of [
      'experiment_id',
      'water_consumed',
      'region',
      'cloud_provider',
      'cloud_region',
      'python_version',
      'codecarbon_version',
      'gpu_count',
      'gpu_model',
      'longitude',
      'latitude',
      'gpu_utilization_percent',
      'on_cloud',
      'wue',
    ] as const) {
      expect(row[unknown], unknown).to.equal(undefined);
    }
  });

  it('gives the command its GPU share where pmon was read: component, note, CSV columns', () => {
    const { power, totals } = snapshot();
    // The command used 600 J of the GPU's 900 J (its SM share): 216 + 600 J in all.
    const gpuShare = {
      scope: 'process' as const,
      component: 'gpu' as const,
      source: 'nvidia-smi',
      estimated: false,
      watts: 60,
      joules: 600,
    };
    const report = buildReport({
      ...base,
      command: 'run',
      argv: ['python3', 'load.py'],
      snapshot: snapshot({
        power: [...power, gpuShare],
        totals: { ...totals, process: { ...totals.process, joules: 816 } },
      }),
      gpus: [{ device: 'gpu0', name: 'NVIDIA H200' }],
      gpuShare: { read: true },
    });
    expect(report.energy.components.find((c) => c.component === 'gpu')).to.deep.equal({
      component: 'gpu',
      source: 'nvidia-smi',
      estimated: false,
      joules: 600,
      watts: 60,
    });
    const notes = report.measurement.notes.join('\n');
    expect(notes).to.include(
      "the command's GPU energy is its share of each GPU's by SM utilization from nvidia-smi pmon",
    );
    expect(notes).to.not.include('not attributed');
    const row = reportToRow(report, HOST, base.endedAt);
    expect(row.gpu_energy).to.be.closeTo((600 * 1.2) / 3.6e6, 1e-15);
    expect(row.gpu_power).to.be.closeTo(60 * 1.2, 1e-9);
    expect(row.energy_consumed).to.be.closeTo((816 * 1.2) / 3.6e6, 1e-15);
    expect(row).to.include({ gpu_count: 1, gpu_model: '1 x NVIDIA H200' });
    const summary = formatSummary(report);
    expect(summary).to.match(/\n {4}gpu +600 J +60 W {2}nvidia-smi \(measured\)\n/);
  });

  it("fills gpu_utilization_percent with the GPUs' mean SM utilization pmon read, as CodeCarbon's", () => {
    // CodeCarbon 3.3.2 writes the mean of each GPU's utilization (NVML's, all processes) over
    // its samples; pmon's SM % of all processes per sample is that figure here. The H200
    // capture's 5 samples (call2/pmon-piped.txt): 493 / 5.
    const input = {
      ...base,
      command: 'run' as const,
      snapshot: snapshot(),
      gpus: [{ device: 'gpu0', name: 'NVIDIA H200' }],
      gpuShare: { read: true },
    };
    const report = buildReport({ ...input, gpuUtilizationPercent: 493 / 5 });
    expect(report.gpuUtilizationPercent).to.equal(98.6);
    expect(reportToRow(report, HOST, base.endedAt).gpu_utilization_percent).to.equal(98.6);
    // Not read (no pmon, pmon failed, monitor): empty, never 0.
    const unread = buildReport(input);
    expect(unread.gpuUtilizationPercent).to.equal(null);
    expect(reportToRow(unread, HOST, base.endedAt).gpu_utilization_percent).to.equal(undefined);
  });

  it('falls back to the host figures, saying why, where pmon could not tell the command share', () => {
    const { power } = snapshot();
    const none = {
      scope: 'process' as const,
      component: 'gpu' as const,
      source: 'nvidia-smi',
      estimated: false,
      watts: 0,
      joules: 0,
    };
    const why =
      'nvidia-smi pmon names busy processes (pid 574, 575) none of which is in this pid namespace (a container?)';
    const report = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot({ power: [...power, none] }),
      gpus: [{ device: 'gpu0', name: 'NVIDIA H200' }],
      gpuShare: { read: false, fallback: why },
    });
    expect(report.energy.components.map((c) => c.component)).to.deep.equal(['package', 'dram']);
    expect(report.measurement.notes).to.include(
      `GPU energy is the whole devices, not attributed to the command (no per-process GPU energy is read; ${why}); it is in the host figures only`,
    );
    // --json says it in a field of its own too, as for every GPU share not read.
    expect(report.measurement.gpuShare).to.deep.equal({ read: false, reason: why });
    const row = reportToRow(report, HOST, base.endedAt);
    expect(row.gpu_energy).to.equal(undefined);
    expect(row).to.include({ gpu_count: 1, gpu_model: '1 x NVIDIA H200' });
  });

  it('says in --json which GPUs got no share and why (MIG mode), as the note does', () => {
    const unshared = [
      {
        device: 'gpu0',
        why: 'pmon printed no utilization for it (MIG mode is enabled: pmon reads none there)',
      },
    ];
    const report = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot(),
      gpus: [{ device: 'gpu0', name: 'NVIDIA H200' }],
      gpuShare: { read: true, unshared },
    });
    expect(report.measurement.gpuShare).to.deep.equal({ read: true, unshared });
    expect(formatSummary(report)).to.contain(
      '\n  note: GPU energy is the whole devices, not attributed to the command (no per-process GPU energy is read; gpu0: pmon printed no utilization for it (MIG mode is enabled: pmon reads none there)); it is in the host figures only\n',
    );
    // Where it was not tried (monitor, no nvidia-smi), there is no field.
    const plain = buildReport({ ...base, command: 'run', snapshot: snapshot() });
    expect(plain.measurement).to.not.have.property('gpuShare');
  });

  it('writes gpu_count 0 as CodeCarbon 3.3.2 does where GPUs were looked for and none is read', () => {
    // Only the host source ran: nvidia-smi was tried and read nothing (its own emissions-formats.csv
    // of a machine without a GPU has `0` and an empty gpu_model).
    const { power, totals } = snapshot();
    const noGpu = snapshot({
      sources: [{ name: 'rapl', kind: 'host', estimated: false }],
      power: power.filter((p) => p.component !== 'gpu'),
      totals: { ...totals, host: { ...totals.host, joules: 360 } },
    });
    const report = buildReport({ ...base, command: 'run', snapshot: noGpu, gpus: [] });
    const row = reportToRow(report, HOST, base.endedAt);
    expect(row.gpu_count).to.equal(0);
    expect(row.gpu_model).to.equal('');
    // `--source estimate` looks for no GPU: how many there are is not known.
    const unsought = reportToRow(report, HOST, base.endedAt, { gpusSought: false });
    expect(unsought.gpu_count).to.equal(undefined);
    expect(unsought.gpu_model).to.equal(undefined);
  });

  it("keeps a host source's GPU energy (powermetrics' Apple GPU) where nvidia-smi found none", () => {
    // macOS: no nvidia-smi, but powermetrics (a host source) reads the GPU's power.
    const { power, totals } = snapshot();
    const apple = snapshot({
      sources: [{ name: 'powermetrics', kind: 'host', estimated: false }],
      power: power.map((p) => ({ ...p, source: 'powermetrics' })),
      totals,
    });
    const monitor = buildReport({ ...base, command: 'monitor', snapshot: apple, gpus: [] });
    const row = reportToRow(monitor, HOST, base.endedAt);
    // 900 J of GPU energy at PUE 1.2 over 10 s, not CodeCarbon's no-GPU zeros.
    expect(row.gpu_energy).to.be.closeTo((900 * 1.2) / 3.6e6, 1e-12);
    expect(row.gpu_power).to.be.closeTo(108, 1e-9);
    expect(row.gpu_count).to.equal(undefined);
    const parts = ['cpu_energy', 'gpu_energy', 'ram_energy'] as const;
    const sum = parts.reduce((s, c) => s + Number(row[c] ?? 0), 0);
    expect(sum).to.be.closeTo(Number(row.energy_consumed), 1e-15);
    // run: the GPU is there but none of its energy is the command's: unknown, not 0.
    const run = buildReport({ ...base, command: 'run', snapshot: apple, gpus: [] });
    expect(reportToRow(run, HOST, base.endedAt).gpu_energy).to.equal(undefined);
  });

  it('writes gpu_model as CodeCarbon 3.3.2 does: counts per model, joined with nothing', () => {
    const h200 = { device: 'gpu0', name: 'NVIDIA H200' };
    expect(codeCarbonGpuModel([h200])).to.equal('1 x NVIDIA H200');
    expect(
      codeCarbonGpuModel([h200, { ...h200, device: 'gpu1' }, { device: 'gpu2', name: 'Tesla T4' }]),
    ).to.equal('2 x NVIDIA H2001 x Tesla T4');
  });

  it("lists the whole machine's components under the run's figures, each with its source", () => {
    const report = buildReport({ ...base, command: 'run', argv: ['x'], snapshot: snapshot() });
    const summary = formatSummary(report);
    const machine = summary.slice(summary.indexOf('whole machine meanwhile'));
    expect(machine).to.match(/\n {4}package +300 J +30 W {2}rapl \(measured\)\n/);
    expect(machine).to.match(/\n {4}gpu +900 J +90 W {2}nvidia-smi \(measured\)\n/);
  });

  // RAPL made readable mid-run (late-start.ts): the estimate served until then, RAPL after.
  // The line named the source in use at the end alone, `rapl (measured)`, beside a reason
  // saying RAPL could not be read and component lines priced by the estimate.
  it('names every source that served in "power from", not only the one in use at the end', () => {
    const { power } = snapshot();
    const late = snapshot({
      reasons: ['cannot read energy_uj: permission denied', 'model: 8 vCPUs'],
      power: [
        {
          scope: 'host',
          component: 'cpu',
          source: 'estimate',
          estimated: true,
          watts: 5,
          joules: 50,
        },
        ...power,
      ],
    });
    const summary = formatSummary(buildReport({ ...base, command: 'monitor', snapshot: late }));
    const line = summary.split('\n').find((l) => l.startsWith('  power from:'));
    expect(line).to.match(
      /^ {2}power from: estimate \(estimated\), rapl \(measured\), nvidia-smi \(measured\) — /,
    );
  });

  it('gives in --json how much of the energy an estimate gave, as the meter totals do', () => {
    // The estimate served until RAPL became readable: `estimated: true` alone did not say that
    // 70 J of the 1330 J were modelled and the rest measured.
    const { power } = snapshot();
    const handedOver = snapshot({
      power: [
        {
          scope: 'host',
          component: 'cpu',
          source: 'estimate',
          estimated: true,
          watts: 5,
          joules: 50,
        },
        {
          scope: 'process',
          component: 'cpu',
          source: 'estimate',
          estimated: true,
          watts: 2,
          joules: 20,
        },
        ...power,
      ],
    });
    const run = JSON.parse(
      JSON.stringify(buildReport({ ...base, command: 'run', snapshot: handedOver })),
    ) as ReturnType<typeof buildReport>;
    expect(run.energy.estimated).to.equal(true);
    expect(run.energy.estimatedJoules).to.equal(20);
    expect(run.host.estimatedJoules).to.equal(50);
    const measured = buildReport({ ...base, command: 'monitor', snapshot: snapshot() });
    expect(measured.energy.estimatedJoules).to.equal(0);
    expect(measured.host.estimatedJoules).to.equal(0);
    const modelled = buildReport({ ...base, command: 'run', snapshot: modelledSnapshot() });
    expect(modelled.energy.estimatedJoules).to.equal(modelled.energy.joules);
  });

  it('reports the whole machine for monitor, GPU included', () => {
    const report = buildReport({ ...base, command: 'monitor', snapshot: snapshot() });
    const row = reportToRow(report, HOST, base.endedAt);
    expect(report.scope).to.equal('host');
    expect(row.tracking_mode).to.equal('machine');
    expect(row.gpu_energy).to.be.closeTo((900 * 1.2) / 3.6e6, 1e-15);
    expect(row.energy_consumed).to.be.closeTo((1260 * 1.2) / 3.6e6, 1e-15);
    expect(row.emissions).to.be.closeTo(0.168 / 1000, 1e-15);
  });

  it('leaves energy and emissions empty when the command CPU time cannot be read', () => {
    const report = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot(),
      processEnergyKnown: false,
    });
    const row = reportToRow(report, HOST, base.endedAt);
    expect(row.energy_consumed).to.equal(undefined);
    expect(row.cpu_energy).to.equal(undefined);
    expect(row.emissions).to.equal(undefined);
    expect(formatSummary(report)).to.match(/energy of the command: unknown/);
  });

  it("says a command CPU time below the reader's resolution is not measured, never 0 J", () => {
    const reading = (seconds: number) => ({
      seconds,
      resolutionSeconds: TREE_CPU_RESOLUTION_SECONDS.proc,
      unmeasured: TREE_CPU_UNMEASURED_TEXT.proc,
    });
    const zero = reading(0);
    const report = buildReport({ ...base, command: 'run', snapshot: snapshot(), processCpu: zero });
    expect(report.energy.known).to.equal(false);
    expect(report.energy.unknownReason).to.equal(
      "at most 10 ms of CPU: within /proc's 10 ms resolution, not measured",
    );
    expect(report.measurement.commandCpuSeconds).to.equal(0);
    expect(report.measurement.commandCpuResolutionSeconds).to.equal(0.01);
    expect(report.sci).to.equal(null);
    const row = reportToRow(report, HOST, base.endedAt);
    for (const column of ['energy_consumed', 'cpu_energy', 'cpu_power', 'emissions'] as const) {
      expect(row[column], column).to.equal(undefined);
    }
    const text = formatSummary(report);
    expect(text).to.contain(
      "energy of the command: unknown (at most 10 ms of CPU: within /proc's 10 ms resolution, not measured)",
    );
    expect(text).to.match(/ {2}emissions: unknown\n/);
    expect(text).to.match(/ {2}embodied: unknown \(/);
    expect(text).to.not.match(/ 0 J/);
    // One tick is within the clock's resolution too: a reaped child's time can read one tick
    // for a command that used far less (about 1 run of `true` in 10), so it is not measured.
    const ticked = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot(),
      processCpu: reading(0.01),
    });
    expect(ticked.energy.known).to.equal(false);
    expect(ticked.sci).to.equal(null);
    expect(ticked.measurement.commandCpuSeconds).to.equal(0.01);
    expect(formatSummary(ticked)).to.not.match(/ 0\.\d+ J|216 J/);
    // Two ticks or more is a measurement: reported as before.
    const measured = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot(),
      processCpu: reading(0.01 + 0.01),
    });
    const plain = buildReport({ ...base, command: 'run', snapshot: snapshot() });
    expect(measured.energy).to.deep.equal(plain.energy);
    expect(measured.energy.known).to.equal(true);
    expect(measured.sci).to.deep.equal(plain.sci);
    expect(formatSummary(measured)).to.equal(formatSummary(plain));
  });

  it("reports a measured GPU share when the command's CPU time is below the clock's resolution", () => {
    // A process that only waits on the GPU: 0 ticks of CPU, 600 J of the GPU's 900 J by pmon.
    // Its CPU-side figures come from a reading that resolves nothing: left out, and the rest is
    // what the command used at least. 400 g/kWh at PUE 1.2: 600 J are 80 mg.
    const { power, totals } = snapshot();
    const gpu = {
      scope: 'process' as const,
      component: 'gpu' as const,
      source: 'nvidia-smi',
      estimated: false,
      watts: 60,
      joules: 600,
    };
    const perJoule = totals.process.grams / totals.process.joules;
    const withGpu = (joules: number) =>
      snapshot({
        power: [...power, { ...gpu, joules, watts: joules / 10 }],
        totals: {
          ...totals,
          process: {
            ...totals.process,
            joules: 216 + joules,
            grams: (216 + joules) * perJoule,
          },
        },
      });
    const reading = (seconds: number, how: 'proc' | 'ps' = 'proc') => ({
      seconds,
      resolutionSeconds: TREE_CPU_RESOLUTION_SECONDS[how],
      unmeasured: TREE_CPU_UNMEASURED_TEXT[how],
      ...(how === 'ps' ? { lowerBound: TREE_CPU_LOWER_BOUND_TEXT.ps } : {}),
    });
    const report = buildReport({
      ...base,
      command: 'run',
      snapshot: withGpu(600),
      gpus: [{ device: 'gpu0', name: 'NVIDIA H200' }],
      gpuShare: { read: true },
      processCpu: reading(0),
    });
    expect(report.energy).to.deep.include({
      joules: 600,
      kwh: 600 / 3.6e6,
      averageWatts: 60,
      estimated: false,
      known: true,
      lowerBound: true,
      cpuUnmeasured: "at most 10 ms of CPU: within /proc's 10 ms resolution, not measured",
    });
    expect(report.energy).to.not.have.property('unknownReason');
    expect(report.energy.components).to.deep.equal([
      { component: 'gpu', source: 'nvidia-smi', estimated: false, joules: 600, watts: 60 },
    ]);
    expect(report.emissions.grams).to.be.closeTo(0.08, 1e-12);
    expect(report.sci).to.equal(null);
    expect(report.measurement.notes).to.include(
      "the command's energy and emissions are its GPU share alone, at least what it used: its CPU time (at most 10 ms of CPU: within /proc's 10 ms resolution, not measured) gives no CPU-side share; its embodied share, which follows its CPU time, is not known",
    );
    const text = formatSummary(report);
    if (process.env.SHOW_SUMMARY) process.stderr.write(text);
    expect(text).to.match(
      /\n {2}energy of the command: at least 600 J \(60 W average, measured, its GPU share alone\)\n {4}gpu +600 J +60 W {2}nvidia-smi \(measured\)\n {2}whole machine/,
    );
    expect(text).to.match(/\n {2}emissions: at least 80 mg CO2e \(/);
    expect(text).to.contain("\n  embodied: unknown (the command's share follows its CPU time)\n");
    expect(text).to.contain("\n  SCI: unknown (the command's embodied share is not known)\n");
    const row = reportToRow(report, HOST, base.endedAt);
    expect(row.gpu_energy).to.be.closeTo((600 * 1.2) / 3.6e6, 1e-15);
    expect(row.gpu_power).to.be.closeTo(60 * 1.2, 1e-9);
    expect(row.energy_consumed).to.be.closeTo((600 * 1.2) / 3.6e6, 1e-15);
    for (const column of ['cpu_energy', 'cpu_power', 'ram_energy', 'ram_power'] as const) {
      expect(row[column], column).to.equal(undefined);
    }
    expect(row.emissions).to.be.closeTo(0.08 / 1000, 1e-15);
    expect(row.tracking_mode).to.equal('process-lower-bound');
    // ps's hundredths the same way, without its own lower-bound note (no CPU part to be short).
    const fromPs = buildReport({
      ...base,
      command: 'run',
      snapshot: withGpu(600),
      gpuShare: { read: true },
      processCpu: reading(0.01, 'ps'),
    });
    expect(fromPs.energy).to.include({ known: true, lowerBound: true, joules: 600 });
    expect(fromPs.measurement.notes).to.not.include(TREE_CPU_LOWER_BOUND_TEXT.ps);
    // No GPU energy of the command to go by: unknown, as before.
    const idle = buildReport({
      ...base,
      command: 'run',
      snapshot: withGpu(0),
      gpuShare: { read: true },
      processCpu: reading(0),
    });
    expect(idle.energy.known).to.equal(false);
    expect(formatSummary(idle)).to.contain('energy of the command: unknown (at most 10 ms');
  });

  it('reports a GPU share of 0 J as measured where pmon showed the command on the SMs', () => {
    // A command shorter than pmon's 1 s: its busy sample came after the GPU's last power line,
    // so its share met no energy. Still a measured GPU share, and the CPU part the unmeasured one.
    const { power, totals } = snapshot();
    const gpu = {
      scope: 'process' as const,
      component: 'gpu' as const,
      source: 'nvidia-smi',
      estimated: false,
      watts: 0,
      joules: 0,
    };
    const report = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot({ power: [...power, gpu], totals }),
      gpus: [{ device: 'gpu0', name: 'NVIDIA H200' }],
      gpuShare: { read: true, commandBusy: true },
      processCpu: {
        seconds: 0,
        resolutionSeconds: TREE_CPU_RESOLUTION_SECONDS.proc,
        unmeasured: TREE_CPU_UNMEASURED_TEXT.proc,
      },
    });
    expect(report.energy).to.deep.include({
      joules: 0,
      known: true,
      lowerBound: true,
      cpuUnmeasured: "at most 10 ms of CPU: within /proc's 10 ms resolution, not measured",
    });
    expect(report.energy.components).to.deep.equal([
      { component: 'gpu', source: 'nvidia-smi', estimated: false, joules: 0, watts: 0 },
    ]);
    expect(report.emissions.grams).to.equal(0);
    expect(report.measurement.notes).to.include(
      "the command's GPU share is 0 J though nvidia-smi pmon showed its processes on the SMs: no GPU power reading came while it did (pmon samples once a second)",
    );
    const text = formatSummary(report);
    expect(text).to.contain(
      'energy of the command: at least 0 J (0 W average, measured, its GPU share alone)',
    );
    expect(text).to.not.contain('energy of the command: unknown');
  });

  it('says the figures are lower bounds where ps reads the CPU time', () => {
    // ps sees a process's time only while it lives: what it spends after the last sample (the
    // command's own last interval included) is never read, so the reading is a lower bound.
    const fromPs = FROM_PS;
    const report = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot(),
      processCpu: fromPs,
    });
    expect(report.energy.known).to.equal(true);
    expect(report.energy.lowerBound).to.equal(true);
    const text = formatSummary(report);
    expect(text).to.match(/ {2}energy of the command: at least 216 J \(/);
    expect(text).to.match(/ {2}emissions: at least 28\.8 mg CO2e \(/);
    expect(text).to.match(/ {2}embodied: at least 12 mg CO2e \(/);
    expect(text).to.match(/ {2}SCI: at least 40\.8 mg CO2e per run/);
    expect(text).to.contain(`note: ${TREE_CPU_LOWER_BOUND_TEXT.ps}`);
    // /proc counts every process to its end: no bound, and the summary as it was.
    const fromProc = { ...fromPs, resolutionSeconds: 0.01, unmeasured: '', lowerBound: undefined };
    const exact = buildReport({
      ...base,
      command: 'run',
      snapshot: snapshot(),
      processCpu: fromProc,
    });
    expect(exact.energy.lowerBound).to.equal(false);
    expect(formatSummary(exact)).to.not.contain('at least');
  });

  it('marks a ps reading a lower bound in the CSV row, where CodeCarbon says what was tracked', () => {
    const run = (processCpu: typeof FROM_PS | Omit<typeof FROM_PS, 'lowerBound'>) =>
      reportToRow(
        buildReport({ ...base, command: 'run', snapshot: snapshot(), processCpu }),
        HOST,
        base.endedAt,
      );
    const bounded = run(FROM_PS);
    expect(bounded.tracking_mode).to.equal('process-lower-bound');
    // The figures are still written: at least this much, not unknown.
    expect(bounded.energy_consumed).to.be.greaterThan(0);
    const { lowerBound: _, ...fromProc } = { ...FROM_PS, resolutionSeconds: 0.01 };
    expect(run(fromProc).tracking_mode).to.equal('process');
  });

  // Facts (/work/shared/facts/power-sources.md, Estimation): every reading the model produces is
  // labelled as an estimate. The CSV keeps CodeCarbon's columns, so the row says it where it
  // says how the energy was tracked.
  it('marks energy from the estimate in the CSV row, for run and monitor', () => {
    const modelled = modelledSnapshot();
    const row = (command: 'run' | 'monitor', processCpu?: typeof FROM_PS) =>
      reportToRow(
        buildReport({
          ...base,
          command,
          snapshot: modelled,
          ...(processCpu ? { processCpu } : {}),
        }),
        HOST,
        base.endedAt,
      );
    expect(row('run').tracking_mode).to.equal('process-estimated');
    expect(row('monitor').tracking_mode).to.equal('machine-estimated');
    expect(row('run', FROM_PS).tracking_mode).to.equal('process-lower-bound-estimated');
    expect(row('run').energy_consumed).to.be.closeTo((216 * 1.2) / 3.6e6, 1e-15);
  });

  it('names each grid source that priced the energy with its share; one source as before', () => {
    const sources = [
      {
        source: 'electricity-maps',
        estimated: false,
        stale: false,
        joules: 133.5,
        share: 133.5 / 216,
        carbonIntensity: 400,
      },
      {
        source: 'annual-average',
        estimated: true,
        stale: false,
        joules: 81.5,
        share: 81.5 / 216,
        carbonIntensity: 342,
      },
      {
        source: 'electricity-maps',
        estimated: false,
        stale: true,
        joules: 1,
        share: 1 / 216,
        carbonIntensity: 380,
      },
    ];
    const mixed = buildReport({
      ...base,
      command: 'run',
      argv: ['x'],
      snapshot: snapshot(),
      pricedBy: { of: (scope) => (scope === 'process' ? sources : []) },
    });
    expect(mixed.grid.sources).to.deep.equal(sources);
    const text = formatSummary(mixed);
    // (133.5 × 400 + 81.5 × 342 + 380) / 216 = 378.1 gCO2e/kWh over the run.
    expect(text).to.contain(
      '\n  emissions: 28.8 mg CO2e (zone DE: 378 gCO2e/kWh on average; PUE 1.2)\n  intensity: electricity-maps (62 % of the energy, live), annual-average (38 %, estimated), electricity-maps (<1 %, live, stale)\n',
    );
    const one = buildReport({
      ...base,
      command: 'run',
      argv: ['x'],
      snapshot: snapshot(),
      pricedBy: { of: () => [{ ...sources[0], joules: 216, share: 1 } as (typeof sources)[0]] },
    });
    const single = formatSummary(one);
    expect(single).to.contain(
      '\n  emissions: 28.8 mg CO2e (zone DE: 400 gCO2e/kWh from electricity-maps, live; PUE 1.2)\n',
    );
    expect(single).to.not.contain('intensity:');
  });

  it("gives one source's intensity over the run, not its last sample's, where it moved", () => {
    // A long monitor on Electricity Maps: one source, its hourly value moving 400 -> 380. The
    // emissions follow the average over the energy; the last sample's 400 would not explain them.
    const moved = {
      source: 'electricity-maps',
      estimated: false,
      stale: false,
      joules: 216,
      share: 1,
      carbonIntensity: 391.25,
    };
    const report = buildReport({
      ...base,
      command: 'monitor',
      snapshot: snapshot(),
      pricedBy: { of: () => [moved] },
    });
    expect(report.grid.carbonIntensity).to.equal(400);
    expect(formatSummary(report)).to.contain(
      '(zone DE: 391 gCO2e/kWh on average, from electricity-maps, live; PUE 1.2)',
    );
  });

  it('leaves emissions empty when no grid intensity was known', () => {
    const s = snapshot();
    const report = buildReport({
      ...base,
      command: 'monitor',
      snapshot: { ...s, grid: { ...s.grid, carbonIntensity: null, source: null } },
    });
    expect(reportToRow(report, HOST, base.endedAt).emissions).to.equal(undefined);
    expect(formatSummary(report)).to.match(/emissions: unknown/);
  });

  it('labels measured and estimated figures in the summary', () => {
    const text = formatSummary(
      buildReport({ ...base, command: 'run', argv: ['node', '-e', 'x()'], snapshot: snapshot() }),
    );
    expect(text).to.match(/`node -e 'x\(\)'`/);
    expect(text).to.match(/package .*rapl \(measured\)/);
    expect(text).to.match(/zone DE: 400 gCO2e\/kWh from electricity-maps, live; PUE 1.2/);
  });

  it('labels the whole machine figure of a run measured or estimated, as its source is', () => {
    const measured = formatSummary(buildReport({ ...base, command: 'run', snapshot: snapshot() }));
    expect(measured).to.contain('whole machine meanwhile: 1260 J (126 W average, measured)');
    const modelled = modelledSnapshot();
    const report = buildReport({ ...base, command: 'run', snapshot: modelled });
    expect(report.host.estimated).to.equal(true);
    expect(formatSummary(report)).to.contain(
      'whole machine meanwhile: 1260 J (126 W average, estimated)',
    );
  });

  it('names the estimated components where measured ones share a total (the H200 run beside a neighbour)', () => {
    // The report `run --json` printed on the H200 (call3): its GPU measured, CPU and RAM modelled.
    const file = join(libraryRoot, 'test/fixtures/energy/h200/call3/share-beside.json');
    const captured = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof buildReport>;
    // Captured before the report named every grid source that priced the run.
    const report = { ...captured, grid: { ...captured.grid, sources: [] } };
    const text = formatSummary(report);
    expect(text).to.contain(
      'energy of the command: 1.64 Wh (421 W average, cpu estimated, dynamic share of the host)',
    );
    expect(text).to.contain(
      'whole machine meanwhile: 2.54 Wh (652 W average, cpu and ram estimated)',
    );
    // Where every component is modelled, or none, the one word still says it.
    const modelled = buildReport({ ...base, command: 'run', snapshot: modelledSnapshot() });
    expect(formatSummary(modelled)).to.contain('(126 W average, estimated)');
  });

  it("prints the command's SCI with its parts, one run being the unit; the CSV keeps CodeCarbon's columns", () => {
    const report = buildReport({ ...base, command: 'run', argv: ['x'], snapshot: snapshot() });
    // E × I 0.0288 g and the command's M 0.012 g, for R = 1 run.
    expect(report.sci).to.deep.include({
      operationalGrams: 0.0288,
      embodiedGrams: 0.012,
      units: 1,
      unit: 'run',
      estimated: true,
    });
    expect(report.sci?.gramsPerUnit).to.be.closeTo(0.0408, 1e-15);
    expect(report.embodied.grams).to.equal(0.012);
    expect(report.embodied.gramsPerSecond).to.be.closeTo(0.0012, 1e-15);
    const text = formatSummary(report);
    expect(text).to.match(
      /embodied: 12 mg CO2e \(estimated: the command's share of 1000 kgCO2e of hardware over 4 years, 2 of 2 vCPUs; a test host\)/,
    );
    expect(text).to.match(
      /SCI: 40.8 mg CO2e per run = \(E×I 28.8 mg \+ M 12 mg\) \/ R 1 run \(estimated\)/,
    );
    // The CSV row has no column for it: CodeCarbon's 38 stay as they are.
    const row = reportToRow(report, HOST, base.endedAt);
    expect(
      Object.keys(row).every((k) => (CODECARBON_COLUMNS as readonly string[]).includes(k)),
    ).to.equal(true);
    expect(row.emissions).to.be.closeTo(0.0288 / 1000, 1e-15);
  });

  it('has no SCI where the operational emissions are not known', () => {
    const s = snapshot();
    for (const report of [
      buildReport({ ...base, command: 'run', snapshot: s, processEnergyKnown: false }),
      buildReport({
        ...base,
        command: 'run',
        snapshot: { ...s, grid: { ...s.grid, carbonIntensity: null, source: null } },
      }),
    ]) {
      expect(report.sci).to.equal(null);
      expect(formatSummary(report)).to.match(/SCI: unknown/);
    }
  });

  it('writes CodeCarbon timestamps and countries of zones', () => {
    expect(codeCarbonTimestamp(new Date(2024, 4, 14, 9, 5, 7))).to.equal('2024-05-14T09:05:07');
    expect(countryOfZone('US-CAL-CISO')).to.deep.equal({
      iso3: 'USA',
      name: 'United States',
    });
    expect(countryOfZone('ZZ')).to.deep.equal({});
  });

  // This file's own import of i18n-iso-countries registers every locale: a child process shows
  // what the CLI's loads, English names only (78 locales' names cost ~20 ms at start-up).
  it('names countries in English with only the English locale loaded', async () => {
    const report = JSON.stringify(join(libraryRoot, 'dist/src/cli/report.js'));
    const script = `import { createRequire } from 'node:module';
const { countryOfZone } = await import(${report});
const loaded = Object.keys(createRequire(import.meta.url).cache);
const langs = loaded.filter((f) => /i18n-iso-countries.langs/.test(f)).map((f) => f.split('/').at(-1));
console.log(JSON.stringify({ langs, names: ['GB', 'KR', 'CZ'].map((z) => countryOfZone(z).name) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(JSON.parse(stdout)).to.deep.equal({
      langs: ['en.json'],
      names: ['United Kingdom', 'South Korea', 'Czechia'],
    });
  });
});

/** Written by the real CodeCarbon 3.3.2 (tools/codecarbon/fixtures.py); read without Python. */
const codecarbonFixture = (name: string) =>
  readFileSync(join(libraryRoot, 'test', 'fixtures', 'codecarbon', name), 'utf8');

describe('CSV row against CodeCarbon 3.3.2', () => {
  // Its run: RAM forced to 10 W, PUE 1.5, 300 gCO2e/kWh, machine tracking.
  const { header, records } = parseEmissionsCsv(codecarbonFixture('emissions-pue.csv'));
  const theirs = records[0];
  const num = (column: keyof typeof theirs) => Number(theirs[column]);

  it("has the columns of CodeCarbon's own file, in its order", () => {
    expect(header.join(',')).to.equal(CSV_HEADER);
  });

  it('applies the PUE to energy and power as CodeCarbon does: emissions = energy × intensity', () => {
    const seconds = num('duration');
    const joules = 10 * seconds; // the IT energy of 10 W, as CodeCarbon's forced RAM
    const grams = joules * gramsPerJoule(300, 1.5);
    const figure = { scope: 'host' as const, component: 'dram' as const, source: 'forced' };
    const totals = { joules, watts: 10, grams, gramsPerSecond: grams / seconds };
    const report = buildReport({
      ...base,
      durationSeconds: seconds,
      command: 'monitor',
      snapshot: snapshot({
        pue: 1.5,
        grid: { ...snapshot().grid, carbonIntensity: 300 },
        power: [{ ...figure, estimated: false, watts: 10, joules }],
        totals: {
          host: { ...snapshot().totals.host, ...totals },
          process: { ...snapshot().totals.process, ...totals },
        },
      }),
    });
    const row = reportToRow(report, HOST, base.endedAt);
    expect(num('pue')).to.equal(1.5);
    expect(row.ram_power).to.equal(num('ram_power'));
    const intensity = (r: { emissions?: unknown; energy_consumed?: unknown }) =>
      Number(r.emissions) / Number(r.energy_consumed);
    expect(intensity(row)).to.be.closeTo(intensity(theirs), 1e-12);
    expect(intensity(theirs)).to.be.closeTo(0.3, 1e-12);
    expect(row.energy_consumed).to.be.closeTo((joules * 1.5) / 3.6e6, 1e-18);
    expect(row.ram_energy).to.equal(row.energy_consumed);
    expect(Number(row.emissions_rate) * seconds).to.be.closeTo(Number(row.emissions), 1e-18);
    // The summary and --json keep the IT energy, as the meter's counters do.
    expect(report.energy.joules).to.equal(joules);
  });

  it("writes os as CodeCarbon's does on Linux: Python's platform.platform(), its libc too", () => {
    // Its file groups and filters runs by os; `Linux-…-x86_64` alone would be another value.
    const formats = parseEmissionsCsv(codecarbonFixture('emissions-formats.csv')).records[0];
    expect(formats.os).to.equal('Linux-6.18.44-fc-v1252-x86_64-with-glibc2.36');
    expect(
      pythonPlatform({
        system: 'Linux',
        release: '6.18.44-fc-v1252',
        machine: 'x86_64',
        libc: 'glibc2.36',
      }),
    ).to.equal(formats.os);
    // Python's clean-up of a release string; no glibc found (musl): `-with` and nothing.
    expect(
      pythonPlatform({ system: 'Linux', release: '5.4 (x)', machine: 'aarch64', libc: '' }),
    ).to.equal('Linux-5.4_-x-aarch64-with');
    // Python adds `uname -p` after the machine where it says more (Gentoo's CPU model); not
    // where it says `unknown` (Debian) or the machine again (Fedora, Ubuntu).
    const gentoo = {
      system: 'Linux',
      release: '6.6.21-gentoo',
      machine: 'x86_64',
      libc: 'glibc2.38',
    };
    expect(
      pythonPlatform({ ...gentoo, processor: 'Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz' }),
    ).to.equal(
      // platform._platform's answer for these parts (Python 3.11).
      'Linux-6.6.21-gentoo-x86_64-Intel-R-_Core-TM-_i7-8700K_CPU_@_3.70GHz-with-glibc2.38',
    );
    for (const processor of ['unknown', 'x86_64', '']) {
      expect(pythonPlatform({ ...gentoo, processor })).to.equal(
        'Linux-6.6.21-gentoo-x86_64-with-glibc2.38',
      );
    }
    const header = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
    const glibc = header?.header?.glibcVersionRuntime;
    if (process.platform === 'linux' && glibc) {
      expect(hostFacts().os).to.match(
        new RegExp(`^Linux-.*-with-glibc${glibc.replaceAll('.', '\\.')}$`),
      );
    }
  });

  it("reads the libc without the report's reverse DNS lookups of the run's open sockets", function () {
    // Node's report resolves every socket's endpoints by blocking getnameinfo unless told
    // otherwise: with an OTLP or grid API connection open and a DNS server that does not
    // answer, the row waited seconds at the end of a run for names it never writes.
    // Node 20.13's switch, newer than the @types/node in use.
    const report = process.report as
      | (NodeJS.ProcessReport & { excludeNetwork?: boolean })
      | undefined;
    if (process.platform !== 'linux' || !report) this.skip();
    const original = report.getReport;
    const before = report.excludeNetwork;
    let excluded: boolean | undefined;
    report.getReport = ((...args: Parameters<typeof original>) => {
      excluded = report.excludeNetwork;
      return original.apply(report, args);
    }) as typeof original;
    try {
      hostFacts();
    } finally {
      report.getReport = original;
    }
    expect(excluded).to.equal(true);
    expect(report.excludeNetwork).to.equal(before);
  });

  it('counts the CPUs where os.cpus() lists none (/proc mounted subset=pid), as the meter does', () => {
    // Node reads os.cpus() from /proc/stat and /proc/cpuinfo: gone under systemd's
    // ProcSubset=pid, cpu_count was 0 while the embodied line counted availableParallelism()'s.
    const host = hostFacts(null, () => []);
    expect(host.cpuCount).to.equal(availableParallelism());
    expect(host.cpuModel).to.equal(undefined);
  });

  it('writes the RAM in use as the mean over the run, as CodeCarbon does, not at its end', () => {
    // CodeCarbon 3.3.2 averages psutil's used (total - available) and percent over its samples;
    // read once at the end, a command's memory is already freed when the row is written.
    const mean = new RamUseMean();
    expect(mean.mean()).to.equal(null);
    const gb = 1024 ** 3;
    mean.add(1000, 16 * gb, 12 * gb); // 4 GB used
    mean.add(3000, 16 * gb, 4 * gb); // 12 GB used for three times as long
    expect(mean.mean()).to.deep.equal({ ramUsedGb: 10, ramUtilizationPercent: 62.5 });
    const host = hostFacts(mean.mean());
    expect(host.ramUsedGb).to.equal(10);
    expect(host.ramUtilizationPercent).to.equal(62.5);
    // No sample (a run shorter than one): the end's, where CodeCarbon writes 0.
    expect(hostFacts(null).ramUsedGb).to.be.above(0);
  });

  it("writes a machine without a GPU as CodeCarbon's own file does, where it looked for one", () => {
    // Its 6 s run on a machine without a GPU (emissions-formats.csv): `0.0` GPU power and energy,
    // `0` utilization (the int of an empty history), `0` GPUs and no model.
    const formats = parseEmissionsCsv(codecarbonFixture('emissions-formats.csv')).records[0];
    const { power, totals } = snapshot();
    const noGpu = snapshot({
      sources: [{ name: 'rapl', kind: 'host', estimated: false }],
      power: power.filter((p) => p.component !== 'gpu'),
      totals: { ...totals, host: { ...totals.host, joules: 360 } },
    });
    const gpuColumns = [
      'gpu_power',
      'gpu_energy',
      'gpu_utilization_percent',
      'gpu_count',
      'gpu_model',
    ] as const;
    for (const command of ['run', 'monitor'] as const) {
      const report = buildReport({ ...base, command, snapshot: noGpu, gpus: [] });
      const ours = parseEmissionsCsv(
        `${CSV_HEADER}\n${formatRow(reportToRow(report, HOST, base.endedAt))}\n`,
      ).records[0];
      for (const column of gpuColumns) {
        expect(ours[column], `${command} ${column}`).to.equal(formats[column]);
      }
      // Its water is its WUE setting's (0 by default) times the energy, and its on_cloud `N` is
      // its offline tracker's missing cloud_provider: neither is known here (see the README).
      expect([formats.water_consumed, formats.wue, formats.on_cloud]).to.deep.equal([
        '0.0',
        '0.0',
        'N',
      ]);
      expect([ours.water_consumed, ours.wue, ours.on_cloud]).to.deep.equal(['', '', '']);
      // `--source estimate` looks for no GPU: none of its columns is known.
      const unsought = reportToRow(report, HOST, base.endedAt, { gpusSought: false });
      for (const column of gpuColumns) expect(unsought[column], column).to.equal(undefined);
    }
  });

  it("names every country as CodeCarbon's file does", () => {
    const { names } = JSON.parse(codecarbonFixture('country-names.json')) as {
      names: Record<string, string>;
    };
    const differ: string[] = [];
    for (const [iso3, name] of Object.entries(names)) {
      const alpha2 = countries.alpha3ToAlpha2(iso3);
      const ours = alpha2 ? countryOfZone(alpha2) : {};
      if (ours.iso3 !== iso3 || ours.name !== name) differ.push(`${iso3}: ${JSON.stringify(ours)}`);
    }
    expect(Object.keys(names)).to.have.length.above(200);
    expect(differ).to.deep.equal([]);
  });
});
