import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { NVIDIA_SMI_QUERY } from '../../../../src/energy/sources/nvidia-smi.js';
import { createRaplSource } from '../../../../src/energy/sources/rapl.js';
import { type SelectedSources, selectSources } from '../../../../src/energy/sources/select.js';
import type { PowerSource } from '../../../../src/energy/sources/source.js';
import type { Logger } from '../../../../src/log.js';
import { loadSettings, SettingsError } from '../../../../src/settings.js';
import {
  containerId,
  ExporterServer,
  keplerExposition,
  scaphandreExposition,
  singleContainerNode,
} from '../../../helpers/exporters.js';
import { waitFor } from '../../../helpers/wait.js';
import {
  buildPowercapTree,
  captureLogger,
  fixture,
  fixtureText,
  NO_CPU,
  tempDir,
  tick,
  writeFakeBinary,
  writePacedBinary,
} from './helpers.js';

/**
 * The probes' wait for a fake binary's first output: a Node script, which a loaded 2-core machine
 * can take longer to start than the 2.15 s a 50 ms interval gives by default.
 */
const SLOW_START_MS = 20_000;

const FAKE_NVIDIA = `
const interval = Number(args[args.length - 1]);
const round = () => process.stdout.write('0, GPU-a, NVIDIA L4, 70.00\\n');
round();
setInterval(round, interval);
`;

/**
 * A RAPL tree whose energy_uj only root may read. Tests run as root, where chmod 000 does not
 * stop reads: EACCES is simulated instead.
 */
function rootOnlyRapl(root: string, logger: Logger) {
  return createRaplSource({
    root,
    logger,
    read: (p) => {
      if (p.endsWith('/energy_uj')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return p.endsWith('/name') ? 'package-0\n' : '1000000\n';
    },
  });
}

/**
 * A RAPL tree (package-0) whose counter root alone may read until the test makes it readable,
 * as a `sudo chmod a+r` on a running machine does; every path read is kept in `reads`.
 */
function laterRapl(root: string) {
  const state = { readable: false, counterUj: 5_000_000, reads: [] as string[] };
  buildPowercapTree(root, [
    { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: 1_000_000 },
  ]);
  const rapl = () =>
    createRaplSource({
      root,
      logger: captureLogger().logger,
      cpuVendor: () => 'GenuineIntel',
      read: (p) => {
        state.reads.push(p);
        if (p.endsWith('/name')) return 'package-0\n';
        if (p.endsWith('/max_energy_range_uj')) return '262143328850\n';
        if (!state.readable) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        return `${state.counterUj}\n`;
      },
    });
  return { state, rapl };
}

describe('energy/sources/select', () => {
  let dir: string;
  let cleanup: () => void;
  let opened: PowerSource[] = [];
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('select'));
  });
  afterEach(async () => {
    for (const s of opened) await s.close();
    opened = [];
    cleanup();
  });

  const config = (env: Record<string, string> = {}) =>
    loadSettings({ ENERGY_POWERCAP_ROOT: join(dir, 'powercap'), ...env });
  const noGpu = () => ({ nvidiaSmi: join(dir, 'absent-nvidia-smi') });
  const keep = (r: SelectedSources) => {
    opened.push(r.host, ...r.gpus);
    return r;
  };
  /** What auto selects on Linux without a GPU, `rapl` making its RAPL source; closed after. */
  const onLinux = async (logger: Logger, rapl: () => PowerSource) =>
    keep(
      await selectSources({
        config: config(),
        logger,
        platform: 'linux',
        binaries: noGpu(),
        make: { rapl },
      }),
    );

  it('auto on a Linux machine without powercap ends at the estimate and says why', async () => {
    const { logger, lines, warnings } = captureLogger();
    const r = keep(
      await selectSources({ config: config(), logger, platform: 'linux', binaries: noGpu() }),
    );
    expect(r.host.name).to.equal('estimate');
    expect(r.host.estimated).to.equal(true);
    expect(r.gpus).to.deep.equal([]);
    expect(r.reasons.join('; ')).to.include(`no powercap tree at ${join(dir, 'powercap')}`);
    expect(r.reasons.join('; ')).to.include('not macOS');
    expect(r.reasons.join('; ')).to.equal(r.reasons.join('; '));
    const info = lines.find((l) => String(l.msg).startsWith('energy source:'));
    expect(info?.msg).to.equal(`energy source: estimate (${r.reasons.join('; ')})`);
    expect(warnings()).to.deep.equal([]);
  });

  // The H200 machine (test/fixtures/energy/h200): a Firecracker VM with no /sys/class/powercap
  // and one GPU. Its `run` logged this start-up line (run-auto.err); the same code, given an
  // absent tree and a fake nvidia-smi printing that GPU's idle lines, must log it again.
  it('auto on the H200 VM (no powercap tree, one GPU): the start-up line its run logged', async () => {
    const captured = fixtureText('h200/call1/run-auto.err')
      .split('\n')
      .find((l) => l.startsWith('carbonscope: energy source:'));
    if (!captured) throw new Error('run-auto.err has no energy source line');
    const root = join(dir, 'powercap');
    // The capture predates the RAM figure's unit named as applied (W/GiB, 2026-12-07).
    const here = (text: string) =>
      text.replaceAll('/sys/class/powercap', root).replaceAll(' W/GB', ' W/GiB');
    const brace = captured.indexOf(' {');
    const expected = JSON.parse(here(captured.slice(brace + 1))) as Record<string, unknown>;
    const idle = fixtureText('h200/call1/nvidia-smi-idle.csv').trimEnd().split('\n');
    const nvidiaSmi = writePacedBinary(
      dir,
      'nvidia-smi',
      idle.map((text, i) => [i * 250, text] as const),
      [...NVIDIA_SMI_QUERY, '-lms', '250'],
    );
    const { logger, lines, warnings } = captureLogger();
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SAMPLE_INTERVAL_MS: '250' }),
        logger,
        platform: 'linux',
        binaries: { nvidiaSmi },
        probeTimeoutMs: SLOW_START_MS,
      }),
    );
    expect(r.host.name).to.equal('estimate');
    expect(r.host.estimated).to.equal(true);
    expect(r.gpus.map((g) => [g.name, g.estimated])).to.deep.equal([['nvidia-smi', false]]);
    const info = lines.find((l) => String(l.msg).startsWith('energy source:'));
    expect(info?.msg).to.equal(here(captured.slice('carbonscope: '.length, brace)));
    expect({
      source: info?.source,
      estimated: info?.estimated,
      gpus: info?.gpus,
      reason: info?.reason,
    }).to.deep.equal(expected);
    expect(warnings()).to.deep.equal([]);
  });

  it('auto with a readable powercap tree picks RAPL (measured)', async () => {
    buildPowercapTree(join(dir, 'powercap'), [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: 1_000_000 },
    ]);
    const { logger } = captureLogger();
    const r = keep(
      await selectSources({ config: config(), logger, platform: 'linux', binaries: noGpu() }),
    );
    expect(r.host.name).to.equal('rapl');
    expect(r.host.estimated).to.equal(false);
    expect(r.reasons.join('; ')).to.include('measured: package-0 (intel-rapl:0)');
  });

  // A meter that stops answering mid-run (the powercap tree gone with a module unload, a
  // container's sysfs remounted) left the host at 0 W, still labelled measured RAPL.
  it('RAPL that cannot be read mid-run: the labelled estimate covers, said once, and RAPL comes back', async () => {
    const root = join(dir, 'powercap');
    const tree = () =>
      buildPowercapTree(root, [
        { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: 1_000_000_000 },
      ]);
    tree();
    const { logger, warnings } = captureLogger();
    const r = keep(
      await selectSources({ config: config(), logger, platform: 'linux', binaries: noGpu() }),
    );
    expect([r.host.name, r.host.estimated]).to.deep.equal(['rapl', false]);
    expect(r.host.sample(tick(1000)).map((x) => x.device)).to.deep.equal(['package-0']);
    rmSync(root, { recursive: true, force: true });
    const busy = { activeSeconds: 1, totalSeconds: 2, cpus: 2 };
    for (let i = 0; i < 3; i++) {
      const covered = r.host.sample(tick(1000, busy));
      expect([r.host.name, r.host.estimated]).to.deep.equal(['estimate', true]);
      expect(covered.map((x) => x.device)).to.deep.equal(['cpu', 'ram']);
      expect(covered[0].joules).to.be.above(0);
    }
    expect(warnings()).to.have.length(1);
    expect(warnings()[0].msg).to.include('rapl (measured) cannot be used');
    expect(warnings()[0].msg).to.include('estimate (estimated) covers until it can');
    tree();
    // The first read after the gap only sets the counter's new baseline: still covered.
    r.host.sample(tick(1000, busy));
    expect(r.host.sample(tick(1000, busy)).map((x) => x.device)).to.deep.equal(['package-0']);
    expect([r.host.name, r.host.estimated]).to.deep.equal(['rapl', false]);
    // The hand-over, and the return that ends it, at the same level.
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      warnings()[0].msg,
      'energy: rapl (measured) readings are used again',
    ]);
  });

  // Each interval comes from one source: RAPL's last before the gap, the estimate's through it
  // and for the tick that only re-bases, RAPL's again after; a counter that wrapped (or was
  // reset) while away is no reading across the gap, neither a whole range nor a negative one.
  it('RAPL back after a gap with a counter that wrapped meanwhile: every interval counted once', async () => {
    const root = join(dir, 'powercap');
    const MAX = 1_000_000_000;
    const zone = (energyUj: number) =>
      buildPowercapTree(root, [{ dir: 'intel-rapl:0', name: 'package-0', energyUj, maxUj: MAX }]);
    zone(900_000_000);
    const r = keep(
      await selectSources({
        config: config(),
        logger: captureLogger().logger,
        platform: 'linux',
        binaries: noGpu(),
      }),
    );
    const busy = { activeSeconds: 1, totalSeconds: 2, cpus: 2 };
    const intervals: [string, number][] = [];
    const step = (energyUj?: number) => {
      if (energyUj === undefined) rmSync(root, { recursive: true, force: true });
      else zone(energyUj);
      const joules = r.host.sample(tick(1000, busy)).reduce((a, x) => a + x.joules, 0);
      intervals.push([r.host.name, Number(joules.toFixed(6))]);
    };
    step(950_000_000);
    step();
    step();
    step(20_000_000);
    step(23_000_000);
    const estimateJoules = intervals[1][1];
    expect(estimateJoules).to.be.above(0);
    expect(intervals).to.deep.equal([
      ['rapl', 50],
      ['estimate', estimateJoules],
      ['estimate', estimateJoules],
      ['estimate', estimateJoules],
      ['rapl', 3],
    ]);
  });

  it('powermetrics that ends mid-run: the labelled estimate covers from then on', async () => {
    const powermetrics = writeFakeBinary(
      dir,
      'powermetrics',
      `const t = require('node:fs').readFileSync(${JSON.stringify(fixture('powermetrics-intel.txt'))}, 'utf8');
       process.stdout.write(t); setTimeout(() => process.exit(3), 100);`,
    );
    const { logger, warnings } = captureLogger();
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SAMPLE_INTERVAL_MS: '50' }),
        logger,
        platform: 'darwin',
        binaries: { ...noGpu(), powermetrics },
        probeTimeoutMs: SLOW_START_MS,
      }),
    );
    expect(r.host.name).to.equal('powermetrics');
    await waitFor('a host reading', () => {
      r.host.sample(tick(1000));
      return r.host.name === 'estimate';
    });
    expect(warnings().map((w) => w.msg)).to.deep.equal([
      'energy: powermetrics (measured) cannot be used: child ended (exit 3); no more readings; ' +
        'estimate (estimated) covers until it can',
    ]);
    const covered = r.host.sample(tick(1000, { activeSeconds: 1, totalSeconds: 2, cpus: 2 }));
    expect([r.host.name, r.host.estimated]).to.deep.equal(['estimate', true]);
    expect(covered.map((x) => x.device)).to.deep.equal(['cpu', 'ram']);
  });

  it('auto on macOS uses powermetrics when it runs', async () => {
    const powermetrics = writeFakeBinary(
      dir,
      'powermetrics',
      `const t = require('node:fs').readFileSync(${JSON.stringify(fixture('powermetrics-intel.txt'))}, 'utf8');
       process.stdout.write(t); setInterval(() => process.stdout.write(t), 50);`,
    );
    const { logger } = captureLogger();
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SAMPLE_INTERVAL_MS: '50' }),
        logger,
        platform: 'darwin',
        binaries: { ...noGpu(), powermetrics },
        probeTimeoutMs: SLOW_START_MS,
      }),
    );
    expect(r.host.name).to.equal('powermetrics');
    expect(r.reasons.join('; ')).to.include('rapl: not Linux');
  });

  // Facts (/work/shared/facts/power-sources.md): since CVE-2020-8694 energy_uj is readable only by
  // root on most kernels; "a meter should say this once, clearly, and fall back". In auto mode
  // a machine with RAPL it cannot read is worth a warning; one without powercap is not.
  it('auto on Linux with RAPL readable only by root: one warning naming the file and the fix', async () => {
    const root = join(dir, 'powercap');
    buildPowercapTree(root, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: 1_000_000 },
    ]);
    const { logger, warnings } = captureLogger();
    const r = await onLinux(logger, () => rootOnlyRapl(root, logger));
    expect(r.host.name).to.equal('estimate');
    expect(warnings()).to.have.length(1);
    const msg = String(warnings()[0].msg);
    expect(msg).to.include(join(root, 'intel-rapl:0', 'energy_uj'));
    expect(msg).to.include('permission denied');
    expect(msg).to.include('sudo chmod a+r');
    expect(msg).to.include('estimate');
  });

  // Facts: the usual fixes for root-only energy_uj (chmod a+r, a udev rule, sysfsutils) are
  // applied to a running machine. RAPL unreadable at start was never tried again: the service
  // kept the estimate until restarted. It is tried once a minute (on the ticks' clock) and
  // taken, with one info line, as soon as it reads.
  it('RAPL readable only by root at start: tried again once a minute, and used once it reads', async () => {
    const { state, rapl } = laterRapl(join(dir, 'powercap'));
    const { logger, lines, warnings } = captureLogger();
    const r = await onLinux(logger, rapl);
    const busy = { activeSeconds: 1, totalSeconds: 2, cpus: 2 };
    const at = (nowMs: number) => {
      const readings = r.host.sample(tick(1000, busy, nowMs));
      return [r.host.name, readings.map((x) => x.device).join('+')];
    };
    expect(at(0)).to.deep.equal(['estimate', 'cpu+ram']);
    state.readable = true; // sudo chmod a+r .../energy_uj
    const before = state.reads.length;
    expect(at(59_000)).to.deep.equal(['estimate', 'cpu+ram']);
    // Nothing read between tries: a minute is the pace, not every tick.
    expect(state.reads.length).to.equal(before);
    expect(at(60_000)).to.deep.equal(['estimate', 'cpu+ram']);
    await new Promise((resolve) => setImmediate(resolve));
    state.counterUj += 30_000_000;
    const measured = r.host.sample(tick(1000, busy, 61_000));
    expect([r.host.name, r.host.estimated]).to.deep.equal(['rapl', false]);
    expect(measured.map((x) => [x.device, x.joules])).to.deep.equal([['package-0', 30]]);
    const infos = lines.filter((l) => l.level === 30 && String(l.msg).includes('can be read now'));
    expect(infos.map((l) => l.msg)).to.deep.equal([
      'energy: rapl can be read now (package-0 (intel-rapl:0)); its measured readings replace the estimate',
    ]);
    // The warning at start said it would look again.
    expect(warnings()).to.have.length(1);
    expect(warnings()[0].msg).to.include('tried again every minute');
  });

  // A try that reads, then a counter unreadable again at the next tick (the chmod undone, a
  // udev rule racing): each interval is covered once, by the estimate or by RAPL, never both or
  // neither, and RAPL's first reading after it reads again spans only its own interval.
  it('RAPL that reads at its try and not at the next tick: the estimate covers, each interval once', async () => {
    const { state, rapl } = laterRapl(join(dir, 'powercap'));
    const { logger, lines } = captureLogger();
    const r = await onLinux(logger, rapl);
    const busy = { activeSeconds: 1, totalSeconds: 2, cpus: 2 };
    const at = (nowMs: number) => {
      const readings = r.host.sample(tick(1000, busy, nowMs));
      return `${r.host.name} ${readings.map((x) => `${x.device}:${x.joules.toFixed(3)}`).join('+')}`;
    };
    const estimate = at(0);
    expect(estimate).to.match(/^estimate cpu:[\d.]+\+ram:[\d.]+$/);
    state.readable = true;
    expect(at(60_000)).to.equal(estimate);
    await new Promise((resolve) => setImmediate(resolve));
    state.readable = false;
    state.counterUj += 7_000_000;
    expect(at(61_000)).to.equal(estimate);
    state.readable = true;
    state.counterUj += 3_000_000;
    expect(at(62_000)).to.equal(estimate); // its new baseline
    state.counterUj += 30_000_000;
    expect(at(63_000)).to.equal('rapl package-0:30.000');
    // After the start: one switch said, one hand-over back, one return; no line per tick.
    const start = lines.findIndex((l) => String(l.msg).startsWith('energy source:'));
    const said = lines.slice(start + 1).filter((l) => l.level >= 30);
    const phrases = ['rapl can be read now', 'rapl (measured) cannot be used', 'used again'];
    expect(
      said.map((l) => [l.level, phrases.find((p) => String(l.msg).includes(p))]),
    ).to.deep.equal([
      [30, phrases[0]],
      [40, phrases[1]],
      [40, phrases[2]],
    ]);
  });

  it('ENERGY_SOURCE=rapl that cannot be read: warns why, falls back to the estimate, no crash', async () => {
    buildPowercapTree(join(dir, 'powercap'), [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: 1_000_000 },
    ]);
    const { logger, warnings } = captureLogger();
    const root = join(dir, 'powercap');
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SOURCE: 'rapl' }),
        logger,
        binaries: noGpu(),
        make: { rapl: () => rootOnlyRapl(root, logger) },
      }),
    );
    expect(r.host.name).to.equal('estimate');
    expect(warnings()).to.have.length(1);
    expect(warnings()[0].msg).to.include('ENERGY_SOURCE=rapl cannot be read');
    expect(warnings()[0].msg).to.include('sudo chmod a+r');
    expect(warnings()[0].msg).to.include('falling back to estimate');
  });

  it('ENERGY_SOURCE=powermetrics without root: the superuser message, then the estimate', async () => {
    const powermetrics = writeFakeBinary(
      dir,
      'powermetrics',
      `console.error('powermetrics must be invoked as the superuser'); process.exit(1);`,
    );
    const { logger, warnings } = captureLogger();
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SOURCE: 'powermetrics' }),
        logger,
        binaries: { ...noGpu(), powermetrics },
      }),
    );
    expect(r.host.name).to.equal('estimate');
    expect(warnings()[0].msg).to.include('must be invoked as the superuser');
  });

  it('adds nvidia-smi GPUs when present; ENERGY_SOURCE=estimate probes no hardware', async () => {
    const nvidiaSmi = writeFakeBinary(dir, 'nvidia-smi', FAKE_NVIDIA);
    const { logger } = captureLogger();
    const auto = keep(
      await selectSources({
        config: config({ ENERGY_SAMPLE_INTERVAL_MS: '50' }),
        logger,
        platform: 'linux',
        binaries: { nvidiaSmi },
        probeTimeoutMs: SLOW_START_MS,
      }),
    );
    expect(auto.gpus.map((g) => [g.name, g.kind])).to.deep.equal([['nvidia-smi', 'gpu']]);
    expect(auto.reasons.join('; ')).to.include('GPUs: gpu0 NVIDIA L4');

    const estimate = keep(
      await selectSources({
        config: config({ ENERGY_SOURCE: 'estimate' }),
        logger,
        binaries: { nvidiaSmi },
      }),
    );
    expect(estimate.host.name).to.equal('estimate');
    expect(estimate.gpus).to.deep.equal([]);
  });

  // `carbonscope monitor --source estimate` said "power from: estimate — requested by
  // ENERGY_SOURCE" in its summary, a variable the user never set.
  it('names the option that chose the estimate in its reasons, where an option did', async () => {
    const { logger } = captureLogger();
    const given = config({ ENERGY_SOURCE: 'estimate' });
    const chosen = keep(
      await selectSources({
        config: { ...given, energy: { ...given.energy, sourceOption: '--source' } },
        logger,
      }),
    );
    expect(chosen.reasons.join('; ')).to.include('requested by --source');
    expect(chosen.reasons.join('; ')).to.not.include('ENERGY_SOURCE');
  });

  // Refused, this stopped a start that worked: each row of the table says which model reads it.
  it('warns once that a CPU figure of the model ENERGY_CPU_MODEL did not choose is unused', async () => {
    const cases: Array<[Record<string, string>, string | undefined]> = [
      [
        { ENERGY_CPU_TDP_WATTS: '65' },
        "energy: ENERGY_CPU_TDP_WATTS is set but not read: the estimate's CPU model is linear (ENERGY_CPU_MODEL=tdp reads it)",
      ],
      [
        { ENERGY_CPU_MODEL: 'tdp', ENERGY_CPU_MAX_WATTS_PER_VCPU: '4' },
        "energy: ENERGY_CPU_MAX_WATTS_PER_VCPU is set but not read: the estimate's CPU model is tdp (ENERGY_CPU_MODEL=linear reads it)",
      ],
      [{ ENERGY_CPU_MODEL: 'tdp', ENERGY_CPU_TDP_WATTS: '65' }, undefined],
      [{ ENERGY_CPU_MAX_WATTS_PER_VCPU: '4' }, undefined],
    ];
    for (const [env, warning] of cases) {
      const { logger, warnings } = captureLogger();
      keep(await selectSources({ config: config({ ...env, ENERGY_SOURCE: 'estimate' }), logger }));
      const said = warnings().filter((w) => String(w.msg).includes('not read'));
      expect(
        said.map((w) => w.msg),
        JSON.stringify(env),
      ).to.deep.equal(warning ? [warning] : []);
    }
  });

  it('nvidia-smi there but without a GPU line at start (driver not loaded yet): its GPUs are read once it answers', async () => {
    const driver = join(dir, 'driver-loaded');
    const nvidiaSmi = writeFakeBinary(
      dir,
      'nvidia-smi',
      `
if (!require('node:fs').existsSync(${JSON.stringify(driver)})) {
  console.log("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
  process.exit(9);
}
${FAKE_NVIDIA}`,
    );
    const { logger, lines } = captureLogger();
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SAMPLE_INTERVAL_MS: '50' }),
        logger,
        platform: 'linux',
        binaries: { nvidiaSmi },
        probeTimeoutMs: SLOW_START_MS,
      }),
    );
    expect(r.gpus.map((g) => [g.name, g.kind, g.estimated])).to.deep.equal([
      ['nvidia-smi', 'gpu', false],
    ]);
    const gpu = r.gpus[0];
    expect(gpu.devices?.()).to.deep.equal([]);
    expect(r.reasons.join('; ')).to.match(
      /GPUs: .*couldn't communicate with the NVIDIA driver.*; tried again after 1 min, then less often/,
    );
    // The start-up line names no GPU source while none is read.
    const startLine = lines.find((l) => String(l.msg).startsWith('energy source:'));
    expect(String(startLine?.msg)).to.match(/^energy source: estimate \(/);
    expect(gpu.sample(tick(50, NO_CPU, 0))).to.deep.equal([]);

    writeFileSync(driver, '');
    // The tick clock is scripted: a minute on it is no minute waited.
    expect(gpu.sample(tick(50, NO_CPU, 60_000))).to.deep.equal([]);
    await waitFor(
      'the GPU source to start',
      () => {
        gpu.sample(tick(50, NO_CPU, 60_050));
        return (gpu.devices?.() ?? []).length > 0;
      },
      SLOW_START_MS,
    );
    expect(gpu.devices?.()).to.deep.equal([{ device: 'gpu0', name: 'NVIDIA L4' }]);
    await waitFor(
      'a GPU reading',
      () => gpu.sample(tick(50, NO_CPU, 60_100)).length > 0,
      SLOW_START_MS,
    );
  });

  it("nvidia-smi tried again later: that try's wait keeps no process alive (no one awaits it)", async () => {
    const driver = join(dir, 'driver-loaded');
    // No driver at start; then a first start slower than any probe waits.
    const nvidiaSmi = writeFakeBinary(
      dir,
      'nvidia-smi',
      `
if (!require('node:fs').existsSync(${JSON.stringify(driver)})) process.exit(9);
setInterval(() => undefined, 1000);
`,
    );
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SAMPLE_INTERVAL_MS: '50' }),
        logger: captureLogger().logger,
        platform: 'linux',
        binaries: { nvidiaSmi },
        probeTimeoutMs: SLOW_START_MS,
      }),
    );
    const gpu = r.gpus[0];
    gpu.sample(tick(50, NO_CPU, 0));
    writeFileSync(driver, '');
    const timers = () => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
    const before = timers();
    gpu.sample(tick(50, NO_CPU, 60_000));
    // A meter's timer is unref'd: a try held for its 20 s wait would keep a finished script up.
    expect(timers()).to.equal(before);
  });

  it('no nvidia-smi at all: no GPU source, and it is not looked for again', async () => {
    const r = keep(
      await selectSources({
        config: config(),
        logger: captureLogger().logger,
        platform: 'linux',
        binaries: noGpu(),
      }),
    );
    expect(r.gpus).to.deep.equal([]);
  });

  it('ENERGY_SOURCE=nvidia-smi without a GPU: a warning, and the host source as in auto', async () => {
    const { logger, warnings } = captureLogger();
    const r = keep(
      await selectSources({
        config: config({ ENERGY_SOURCE: 'nvidia-smi' }),
        logger,
        platform: 'linux',
        binaries: noGpu(),
      }),
    );
    expect(r.host.name).to.equal('estimate');
    expect(r.gpus).to.deep.equal([]);
    expect(warnings()[0].msg).to.include('ENERGY_SOURCE=nvidia-smi cannot be read');
  });

  describe('Kepler and Scaphandre', () => {
    const WEB = containerId('web');
    let server: ExporterServer;
    beforeEach(async () => {
      server = await new ExporterServer().start();
      server.serve('/kepler', () =>
        keplerExposition([singleContainerNode(WEB, { package: 9, dram: 1 })]),
      );
      server.serve('/scaphandre', () =>
        scaphandreExposition(30e6, [
          { pid: process.pid, exe: 'node', cmdline: 'node', microwatts: 2e6 },
        ]),
      );
    });
    afterEach(async () => server.stop());
    const noCgroup = () => '0::/\n';

    it('auto prefers Kepler when its URL is set, even over a readable RAPL, and RAPL covers for it', async () => {
      buildPowercapTree(join(dir, 'powercap'), [
        { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1, maxUj: 1_000_000 },
      ]);
      const { logger, lines } = captureLogger();
      const r = keep(
        await selectSources({
          config: config({ KEPLER_METRICS_URL: server.url('/kepler'), KEPLER_CONTAINER_ID: WEB }),
          logger,
          platform: 'linux',
          binaries: noGpu(),
          readCgroup: noCgroup,
        }),
      );
      expect([r.host.name, r.host.estimated, r.host.scope]).to.deep.equal([
        'kepler',
        false,
        'process',
      ]);
      expect(r.reasons[0]).to.equal(
        `measured: container ${WEB.slice(0, 12)} (web) on node-a: package+dram, node package+dram from ${server.url('/kepler')}`,
      );
      expect(r.reasons.join('; ')).to.include('measured: package-0 (intel-rapl:0)');
      expect(lines.find((l) => String(l.msg).startsWith('energy source:'))?.msg).to.match(
        /^energy source: kepler \(measured: container/,
      );
    });

    // Kepler finds its container by the pod's name, Scaphandre this process by its pid.
    const exporters = [
      [
        'kepler',
        (url: string) => ({ KEPLER_METRICS_URL: url, POD_NAME: 'web-1', POD_NAMESPACE: 'shop' }),
      ],
      ['scaphandre', (url: string) => ({ SCAPHANDRE_METRICS_URL: url })],
    ] as const;
    for (const [exporter, env] of exporters) {
      it(`ENERGY_SOURCE=${exporter} that does not answer yet: the estimate covers, ${exporter} is used once it answers`, async () => {
        const url = server.url(`/${exporter}`);
        await server.stop();
        const { logger, warnings } = captureLogger();
        const r = keep(
          await selectSources({
            config: config({
              ENERGY_SOURCE: exporter,
              ENERGY_EXPORTER_INTERVAL_MS: '100',
              ...env(url),
            }),
            logger,
            platform: 'linux',
            binaries: noGpu(),
            readCgroup: noCgroup,
          }),
        );
        expect(r.host.name).to.equal('estimate');
        expect(warnings()[0]?.msg).to.equal(
          `energy: ${exporter} (measured) cannot be used yet (${url}: ECONNREFUSED); estimate covers until it can`,
        );
        const routes = server.routes;
        server = await new ExporterServer().start(Number(new URL(url).port));
        server.routes = routes;
        await waitFor('a request to the server', () => server.requests > 0, 3000);
        await new Promise((resolve) => setTimeout(resolve, 50));
        r.host.sample({ nowMs: performance.now(), elapsedMs: 100, hostCpu: NO_CPU });
        expect([r.host.name, r.host.estimated, r.host.scope]).to.deep.equal([
          exporter,
          false,
          'process',
        ]);
      });
    }

    // A Prometheus behind a proxy that takes a key (`/?token=`): the warning named
    // `http://host:port/`, the API path lost in the query it was appended to.
    it('names a Prometheus URL with a query by its API path', async () => {
      const url = server.url('/?token=kep-T0K-31&org=1');
      await server.stop();
      const { logger, warnings } = captureLogger();
      keep(
        await selectSources({
          config: config({ ENERGY_SOURCE: 'kepler', KEPLER_PROMETHEUS_URL: url }),
          logger,
          platform: 'linux',
          binaries: noGpu(),
          readCgroup: noCgroup,
        }),
      );
      const where = `${new URL(url).origin}/api/v1/query`;
      expect(warnings()[0]?.msg).to.include(`(${where}: ECONNREFUSED)`);
    });

    it('auto with a Scaphandre URL measures this process by its pid', async () => {
      const { logger } = captureLogger();
      const r = keep(
        await selectSources({
          config: config({ SCAPHANDRE_METRICS_URL: server.url('/scaphandre') }),
          logger,
          platform: 'linux',
          binaries: noGpu(),
          readCgroup: noCgroup,
        }),
      );
      expect([r.host.name, r.host.scope]).to.deep.equal(['scaphandre', 'process']);
      expect(r.reasons[0]).to.include(`measured: pid ${process.pid}, host power from`);
    });

    it('ENERGY_SOURCE=kepler without a URL in settings built in code: says so, no crash', async () => {
      const { logger, warnings } = captureLogger();
      const energy = { ...config().energy, source: 'kepler' as const };
      const r = keep(
        await selectSources({ config: { energy }, logger, platform: 'linux', binaries: noGpu() }),
      );
      expect(r.host.name).to.equal('estimate');
      expect(warnings()[0]?.msg).to.equal(
        'energy: kepler needs KEPLER_METRICS_URL or KEPLER_PROMETHEUS_URL; estimate is used',
      );
    });

    // Refusing these stopped setups that worked: a template that always sets the URL and picks
    // ENERGY_SOURCE per environment, or both URLs under auto, whose Kepler-first order is documented.
    it('warns once that an exporter URL the energy source never reads is unused, and starts', async () => {
      const kepler = { KEPLER_METRICS_URL: server.url('/kepler'), KEPLER_CONTAINER_ID: WEB };
      const scaphandre = { SCAPHANDRE_PROMETHEUS_URL: server.url('/') };
      const cases: Array<[Record<string, string>, string | undefined]> = [
        [
          { ...kepler, ENERGY_SOURCE: 'estimate' },
          'energy: KEPLER_METRICS_URL is set but not read: the source is estimate (kepler or auto reads it)',
        ],
        [
          { ...kepler, ...scaphandre, ENERGY_SOURCE: 'estimate' },
          'energy: KEPLER_METRICS_URL and SCAPHANDRE_PROMETHEUS_URL are set but not read: the source is estimate (kepler, scaphandre or auto reads them)',
        ],
        [
          { ...kepler, ...scaphandre, ENERGY_SOURCE: 'kepler' },
          'energy: SCAPHANDRE_PROMETHEUS_URL is set but not read: the source is kepler (scaphandre reads it)',
        ],
        [
          { ...kepler, ...scaphandre },
          "energy: SCAPHANDRE_PROMETHEUS_URL is set but not read: auto takes Kepler's URL first (scaphandre reads it)",
        ],
        [{ ...scaphandre, ENERGY_SOURCE: 'scaphandre' }, undefined],
      ];
      for (const [env, warning] of cases) {
        const { logger, warnings } = captureLogger();
        keep(
          await selectSources({
            config: config(env),
            logger,
            platform: 'linux',
            binaries: noGpu(),
            readCgroup: noCgroup,
          }),
        );
        const said = warnings().filter((w) => String(w.msg).includes('not read'));
        expect(
          said.map((w) => w.msg),
          JSON.stringify(env),
        ).to.deep.equal(warning ? [warning] : []);
      }
    });

    it('refuses settings it cannot work with, naming the variable', () => {
      const bad: Array<[Record<string, string>, RegExp]> = [
        [{ ENERGY_SOURCE: 'kepler' }, /^ENERGY_SOURCE: kepler needs KEPLER_METRICS_URL/],
        [
          { KEPLER_METRICS_URL: 'http://a:28282/metrics', KEPLER_PROMETHEUS_URL: 'http://p:9090' },
          /^KEPLER_PROMETHEUS_URL: set either/,
        ],
        [
          { SCAPHANDRE_METRICS_URL: 'http://user:secret@a:8080/metrics' },
          /^SCAPHANDRE_METRICS_URL: credentials/,
        ],
        // A URL parser reads a third slash as none: these are credentials too.
        [
          { KEPLER_PROMETHEUS_URL: 'http:///user:secret@p:9090' },
          /^KEPLER_PROMETHEUS_URL: credentials.*\[redacted\]@p:9090/,
        ],
        [{ KEPLER_CONTAINER_ID: 'web' }, /^KEPLER_CONTAINER_ID: expected a container id/],
        [{ POD_NAME: 'Web_1' }, /^POD_NAME: expected a Kubernetes name/],
      ];
      for (const [env, message] of bad) {
        expect(() => config(env), JSON.stringify(env)).to.throw(SettingsError, message);
      }
      expect(() => config({ SCAPHANDRE_METRICS_URL: 'http://user:secret@a:8080/metrics' }))
        .to.throw(SettingsError)
        .that.satisfies((e: Error) => !e.message.includes('secret'));
    });
  });
});
