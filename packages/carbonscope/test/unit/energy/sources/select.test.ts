import { join } from 'node:path';
import { expect } from 'chai';
import { createRaplSource } from '../../../../src/energy/sources/rapl.js';
import { type SelectedSources, selectSources } from '../../../../src/energy/sources/select.js';
import type { PowerSource } from '../../../../src/energy/sources/source.js';
import { loadSettings } from '../../../../src/settings.js';
import { buildPowercapTree, captureLogger, fixture, tempDir, writeFakeBinary } from './helpers.js';

const FAKE_NVIDIA = `
const interval = Number(args[args.length - 1]);
const round = () => process.stdout.write('0, GPU-a, NVIDIA L4, 70.00\\n');
round();
setInterval(round, interval);
`;

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
      }),
    );
    expect(r.host.name).to.equal('powermetrics');
    expect(r.reasons.join('; ')).to.include('rapl: not Linux');
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
        make: {
          // Tests run as root, where chmod 000 does not stop reads: simulate EACCES instead.
          rapl: () =>
            createRaplSource({
              root,
              logger,
              read: (p) => {
                if (p.endsWith('/energy_uj')) {
                  throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
                }
                return p.endsWith('/name') ? 'package-0\n' : '1000000\n';
              },
            }),
        },
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
});
