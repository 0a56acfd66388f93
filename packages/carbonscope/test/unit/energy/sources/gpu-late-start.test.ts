import { expect } from 'chai';
import { withLateGpu } from '../../../../src/energy/sources/gpu-late-start.js';
import type { PowerSource, ProbeResult } from '../../../../src/energy/sources/source.js';
import { constantSource, type ScriptedSource } from '../scripted.js';
import { captureLogger, tick } from './helpers.js';

describe('energy/sources/gpu-late-start', () => {
  const made: (ScriptedSource & Pick<PowerSource, 'devices'>)[] = [];
  let probeResult: () => Promise<ProbeResult>;
  const make = () => {
    const s = Object.assign(
      constantSource(70, { name: 'nvidia-smi', kind: 'gpu', component: 'gpu' }),
      { devices: () => [{ device: 'gpu0', name: 'NVIDIA L4' }] },
    );
    s.probe = () => probeResult();
    made.push(s);
    return s;
  };
  const settle = () => new Promise((r) => setImmediate(r));
  beforeEach(() => {
    made.length = 0;
  });

  it('reads nothing and names no GPU until a try succeeds; tries double apart up to the cap', async () => {
    probeResult = async () => ({ ok: false, reason: 'driver not loaded' });
    const { logger, lines } = captureLogger();
    const gpu = withLateGpu({
      name: 'nvidia-smi',
      make,
      logger,
      firstRetryMs: 1000,
      maxRetryMs: 4000,
    });
    expect([gpu.name, gpu.kind, gpu.estimated]).to.deep.equal(['nvidia-smi', 'gpu', false]);
    const tries: number[] = [];
    for (let now = 0; now <= 20_000; now += 500) {
      const before = made.length;
      expect(gpu.sample(tick(500, undefined, now))).to.deep.equal([]);
      if (made.length > before) tries.push(now);
      await settle();
    }
    // 1 s after the first tick, then 2, 4, and 4 s apart.
    expect(tries).to.deep.equal([1000, 3000, 7000, 11_000, 15_000, 19_000]);
    expect(made.every((s) => s.closed)).to.equal(true);
    expect(gpu.devices?.()).to.deep.equal([]);
    expect(lines.filter((l) => l.level >= 40)).to.deep.equal([]);

    probeResult = async () => ({ ok: true, detail: 'gpu0 NVIDIA L4' });
    gpu.sample(tick(500, undefined, 23_000));
    await settle();
    const readings = gpu.sample(tick(1000, undefined, 24_000));
    expect(readings.map((r) => [r.device, r.joules])).to.deep.equal([['gpu0', 70]]);
    expect(gpu.devices?.()).to.deep.equal([{ device: 'gpu0', name: 'NVIDIA L4' }]);
    expect(lines.some((l) => String(l.msg).includes('nvidia-smi reads GPUs now'))).to.equal(true);
    expect(await gpu.probe()).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA L4' });
    const used = made[made.length - 1];
    await gpu.close();
    expect(used.closed).to.equal(true);
  });

  it('close() while a try waits for its first line ends that try at once', async () => {
    let answer: (r: ProbeResult) => void = () => undefined;
    probeResult = () =>
      new Promise<ProbeResult>((resolve) => {
        answer = resolve;
      });
    const gpu = withLateGpu({
      name: 'nvidia-smi',
      make,
      logger: captureLogger().logger,
      firstRetryMs: 1000,
    });
    gpu.sample(tick(0, undefined, 0));
    gpu.sample(tick(1000, undefined, 1000));
    expect(made).to.have.length(1);
    // As nvidia-smi's close() does to a probe still waiting: the child ends, the probe fails.
    made[0].close = async () => {
      made[0].closed = true;
      answer({ ok: false, reason: 'ended' });
    };
    await gpu.close();
    expect(made[0].closed).to.equal(true);
    expect(gpu.sample(tick(1000, undefined, 99_000))).to.deep.equal([]);
    expect(made).to.have.length(1);
  });
});
