import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  createNvidiaSmiSource,
  GpuEnergyIntegrator,
  type NvidiaSmiOptions,
  parseNvidiaSmiLine,
} from '../../../../src/energy/sources/nvidia-smi.js';
import { waitFor } from '../../../helpers/wait.js';
import {
  captureLogger,
  fakePid,
  fixtureText,
  isAlive,
  tempDir,
  tick,
  writeFakeBinary,
} from './helpers.js';

const lines = () => fixtureText('nvidia-smi-two-gpus.csv').trim().split('\n');

describe('energy/sources/nvidia-smi', () => {
  // NvidiaSmiOptions is public (the package's index exports it): how a child is started is a
  // test's seam, and on it would be an API users can call and we must keep. Checked by tsc.
  it('keeps how its children are started off the public options', () => {
    type Seams = Extract<keyof NvidiaSmiOptions, 'spawn' | 'kill' | 'lineChild'>;
    const none: [Seams] extends [never] ? true : Seams = true;
    expect(none).to.equal(true);
  });

  it('parses index, uuid, name and power; N/A and [N/A] give no value', () => {
    const parsed = lines().map((l) => parseNvidiaSmiLine(l));
    expect(parsed[0]).to.deep.equal({
      index: 0,
      uuid: 'GPU-3f1c2a4e-9b7d-4c21-8e55-0a1b2c3d4e5f',
      name: 'NVIDIA A100-SXM4-40GB',
      watts: 61.25,
    });
    expect(parsed[3]?.watts).to.equal(undefined);
    expect(parsed[6]?.watts).to.equal(undefined);
    expect(parsed.map((p) => p?.index)).to.deep.equal([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(parseNvidiaSmiLine('1, GPU-x, Tesla T4, [Not Supported]')?.watts).to.equal(undefined);
    expect(parseNvidiaSmiLine('0, GPU-x, Odd, Name, 12.5')?.name).to.equal('Odd, Name');
    expect(
      parseNvidiaSmiLine(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      ),
    ).to.equal(undefined);
  });

  // Split on every comma, a decimal comma (`77,34`) made the name `NVIDIA L4, 77` and the power
  // 34 W, read as measured; nvidia-smi's own separator is ", ", which neither holds.
  it('splits on ", ": a name with a comma stays whole, a value it cannot read skips the line and says why', () => {
    const bad: string[] = [];
    const parse = (line: string) => parseNvidiaSmiLine(line, (why) => bad.push(why));
    expect(parse('0, GPU-a, NVIDIA L4, 77,34')).to.equal(undefined);
    expect(parse('0, GPU-a, NVIDIA L4, Rev 2, 70.5')).to.deep.equal({
      index: 0,
      uuid: 'GPU-a',
      name: 'NVIDIA L4, Rev 2',
      watts: 70.5,
    });
    expect(parse('1, GPU-b, NVIDIA L4,A, 30.25')?.name).to.equal('NVIDIA L4,A');
    expect(parse('1, GPU-b, Tesla T4, [N/A]')?.watts).to.equal(undefined);
    expect(parse('0,GPU-a,NVIDIA L4,77.34')).to.equal(undefined);
    // Not a GPU line at all: said by the probe when it fails, not here.
    expect(
      parse("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
    ).to.equal(undefined);
    expect(bad).to.deep.equal(['power.draw "77,34" is no number', 'no `, ` between its fields']);
  });

  it('integrates two GPUs with the trapezoid rule; intervals touching N/A add nothing and are flagged', () => {
    const unreadable: string[] = [];
    const integ = new GpuEnergyIntegrator({ onUnreadable: (device) => unreadable.push(device) });
    const all = lines().map((l) => parseNvidiaSmiLine(l));
    // Rounds of two lines, one second apart.
    all.forEach((line, i) => {
      if (line) integ.add(line, Math.floor(i / 2) * 1000);
    });
    const readings = integ.drain();
    const gpu0 = readings.find((r) => r.device === 'gpu0');
    const gpu1 = readings.find((r) => r.device === 'gpu1');
    // gpu0: (61.25+120.5)/2 + (120.5+119)/2 = 210.625 J over 2 s; the last interval ends in N/A
    expect(gpu0?.joules).to.equal(210.625);
    expect(gpu0?.watts).to.equal(105.3125);
    expect(gpu0?.partial).to.equal(true);
    // gpu1: only 60 → 62 is readable at both ends: 61 J over 1 s
    expect(gpu1?.joules).to.equal(61);
    expect(gpu1?.watts).to.equal(61);
    expect(gpu1?.partial).to.equal(true);
    expect(readings.every((r) => r.component === 'gpu')).to.equal(true);
    expect(unreadable).to.deep.equal(['gpu1', 'gpu0']);
    expect(integ.drain()).to.deep.equal([]);
  });

  // A GPU with no power reading nvidia-smi reports (some GeForce boards, vGPU guests) prints
  // [N/A] at every line: its energy is never read, so every interval is a partial one, for good,
  // which keeps the stack's EnergyPartiallyUnread firing (its description says so).
  it('makes every interval of a GPU whose power.draw is always N/A a partial one of 0 J', () => {
    const integ = new GpuEnergyIntegrator();
    const readings = [1, 2, 3].map((round) => {
      for (let i = 0; i < 4; i++) {
        const line = parseNvidiaSmiLine('0, GPU-a, NVIDIA GeForce GT 1030, [N/A]');
        if (line) integ.add(line, (round * 4 + i) * 250);
      }
      return integ.drain((round * 4 + 4) * 250);
    });
    expect(readings).to.deep.equal(
      [1, 2, 3].map(() => [
        { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true },
      ]),
    );
  });

  // A monitor of 2 s with lines every 500 ms read a steady 77.36 W GPU as 76.7 W when its end
  // fell 100 ms after a line: the energy ran from the line before the start to the line before
  // the end, whatever the window's edges. Under load they drifted apart; now they are the edges.
  it("counts a GPU's energy from the meter's start to its end, between its lines", () => {
    const integ = new GpuEnergyIntegrator();
    const line = (watts: number) => ({ index: 0, uuid: 'GPU-a', name: 'H200', watts });
    integ.add(line(100), 0);
    // The baseline, 100 ms after the first line: what came before is not the window's.
    expect(integ.drain(100, 'start')).to.deep.equal([]);
    integ.add(line(200), 500);
    integ.add(line(200), 1000);
    // 100 -> 200 W on the line: 120 W at the start, (120 + 200) / 2 over 0.4 s, then 200 W.
    expect(integ.drain(1000)[0]?.joules).to.be.closeTo(64 + 100, 1e-9);
    integ.add(line(300), 1500);
    // The end, 250 ms after the last line: its 300 W held to it.
    const [end] = integ.drain(1750, 'end');
    expect(end?.joules).to.be.closeTo(125 + 75, 1e-9);
    expect(end?.watts).to.be.closeTo(200 / 0.75, 1e-9);
  });

  it('holds no power to the end across a stall, nor from an unreadable line', () => {
    const integ = new GpuEnergyIntegrator({ stallMs: 1000 });
    const line = (watts: number | undefined) => ({ index: 0, uuid: 'GPU-a', name: 'H200', watts });
    integ.add(line(100), 0);
    integ.add(line(100), 500);
    expect(integ.drain(3000, 'end')).to.deep.equal([
      { component: 'gpu', device: 'gpu0', joules: 50, watts: 100, partial: true },
    ]);
    const na = new GpuEnergyIntegrator();
    na.add(line(100), 0);
    na.add(line(undefined), 500);
    expect(na.drain(800, 'end')).to.deep.equal([
      { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true },
    ]);
  });

  it("times a GPU's lines read together an interval apart, never before its line before", () => {
    const integ = new GpuEnergyIntegrator({ stallMs: 10_000, lineIntervalMs: 1000 });
    const line = (index: number, watts: number) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'H200',
      watts,
    });
    integ.addRead([line(0, 100), line(1, 50)], 0);
    // 12 s without a read: 12 lines of gpu0 waited (2 s ... 13 s, 100 -> 200 W), one of gpu1.
    const backlog = Array.from({ length: 12 }, (_, i) => line(0, i === 11 ? 200 : 100));
    integ.addRead([...backlog, line(1, 50)], 13_000);
    const [gpu0, gpu1] = integ.drain(13_000);
    expect(gpu0).to.deep.equal({
      component: 'gpu',
      device: 'gpu0',
      joules: 1350,
      watts: 1350 / 13,
    });
    // A silence of gpu1's own is no backlog: one line, timed as read, past the stall limit.
    expect(gpu1).to.deep.equal({
      component: 'gpu',
      device: 'gpu1',
      joules: 0,
      watts: 0,
      partial: true,
    });
    // More lines than intervals since the line before (nvidia-smi faster than its -lms): spread.
    integ.addRead([line(0, 200), line(0, 200), line(0, 200), line(0, 200)], 14_000);
    expect(integ.drain(14_000)[0]?.joules).to.be.closeTo(200, 1e-9);
  });

  // The meter's samples read the pipe first: a drain that found no line saw a real silence (a
  // hung driver), so lines read later were printed after it. Spread back an interval apart, a
  // burst of 3 after a 12 s hang closed its gap to 10 s, under the limit: 1,000 J made up.
  it("spreads a GPU's lines no further back than the last drain, which saw the pipe empty", () => {
    const integ = new GpuEnergyIntegrator({ stallMs: 10_000, lineIntervalMs: 1000 });
    const line = { index: 0, uuid: 'GPU-a', name: 'H200', watts: 100 };
    integ.addRead([line], 0);
    for (const at of [1000, 2000, 5000, 9000, 11_000, 11_400]) integ.drain(at);
    integ.addRead([line, line, line], 12_000);
    expect(integ.drain(12_000)).to.deep.equal([
      { component: 'gpu', device: 'gpu0', joules: 40, watts: 100, partial: true },
    ]);
    // A hang just past the limit that no drain found: still no gap filled.
    integ.drain(22_000);
    integ.addRead([line, line], 22_500);
    expect(integ.drain(22_500)).to.deep.equal([
      { component: 'gpu', device: 'gpu0', joules: 25, watts: 100, partial: true },
    ]);
  });

  // The stall runs from the GPU's last line, not from the meter's start after it: a GPU silent
  // for 1.4 s (over the 1 s limit) had the 0.9 s since the start held at its last power, in a
  // reading marked partial for that very silence.
  it('holds no power to the end across a stall that began before the start', () => {
    const integ = new GpuEnergyIntegrator({ stallMs: 1000 });
    integ.add({ index: 0, uuid: 'GPU-a', name: 'H200', watts: 100 }, 0);
    expect(integ.drain(500, 'start')).to.deep.equal([]);
    expect(integ.drain(1400, 'end')).to.deep.equal([
      { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true },
    ]);
  });

  describe('child process', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => {
      ({ dir, cleanup } = tempDir('nvidia'));
    });
    afterEach(() => cleanup());

    it('spawns one nvidia-smi -lms N for all GPUs, integrates its stream, kills it on close()', async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `
const expected = '--query-gpu=index,uuid,name,power.draw --format=csv,noheader,nounits -lms';
if (!args.join(' ').startsWith(expected)) process.exit(64);
const interval = Number(args[args.length - 1]);
const rows = ['0, GPU-a, NVIDIA L4, 70.00', '1, GPU-b, NVIDIA L4, 30.00'];
const round = () => process.stdout.write(rows.join('\\n') + '\\n');
round();
setInterval(round, interval);
`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({
        logger,
        intervalMs: 40,
        // A Node fake can take longer to start than the default 3 intervals + 2 s.
        probeTimeoutMs: 20_000,
        binary,
        clock: () => now,
        // The scripted clock runs 1 s per 20 ms poll: a slow round here is no hung driver.
        stallMs: Number.POSITIVE_INFINITY,
      });
      expect(source.kind).to.equal('gpu');
      now = 0;
      const probe = await source.probe();
      expect(probe).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA L4, gpu1 NVIDIA L4' });
      const pid = fakePid(dir, 'nvidia-smi');
      // Advance the scripted clock by 1 s for each round that arrives.
      const total: Record<string, number> = {};
      await waitFor('a reading from the fake nvidia-smi', () => {
        now += 1000;
        for (const r of source.sample(tick(1000))) {
          total[r.device] = (total[r.device] ?? 0) + r.joules;
          expect(r.watts).to.be.oneOf([70, 30]);
        }
        return (total.gpu1 ?? 0) >= 60;
      });
      // Constant power between readings whole scripted seconds apart: energy = W × whole seconds,
      // the same seconds for both GPUs (one burst per round).
      const seconds = total.gpu0 / 70;
      expect(seconds).to.be.greaterThan(0);
      expect(seconds).to.be.closeTo(Math.round(seconds), 1e-9);
      expect(total.gpu1 / 30).to.be.closeTo(seconds, 1e-9);
      await source.close();
      await waitFor('the fake nvidia-smi to end', () => !isAlive(pid));
      expect(warnings()).to.deep.equal([]);
    });

    // Node runs the timers that expired while a process was stopped (SIGSTOP, `docker pause`)
    // before it reads its pipes: a start held past the probe's timeout found no GPU, with its
    // lines waiting in the pipe (and tried again a minute later).
    it('takes the GPU lines that came while the start was held past the probe timeout', async () => {
      const printed = join(dir, 'printed');
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `
const rows = ['0, GPU-a, NVIDIA L4, 70.00', '1, GPU-b, NVIDIA L4, 30.00'];
process.stdout.write(rows.join('\\n') + '\\n', () => require('node:fs').writeFileSync(${JSON.stringify(printed)}, ''));
setInterval(() => {}, 1000);
`,
      );
      const { logger } = captureLogger();
      const source = createNvidiaSmiSource({
        logger,
        intervalMs: 1000,
        probeTimeoutMs: 50,
        binary,
      });
      const probe = source.probe();
      const from = performance.now();
      // Held, as a stopped process is, until the lines are in the pipe and the timeout is past.
      const giveUp = from + 20_000;
      while (
        (!existsSync(printed) || performance.now() - from < 100) &&
        performance.now() < giveUp
      );
      expect(await probe).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA L4, gpu1 NVIDIA L4' });
      await source.close();
    });

    // Facts (/work/shared/facts/power-sources.md, NVIDIA GPUs): nvidia-smi -lms prints one CSV
    // line per GPU per interval. A driver that hangs prints none: that GPU must show as not read
    // (partial, one warning), and the silence must not be filled in from the readings around it.
    it('a GPU silent for many intervals (a hung driver): partial, said once, the gap not interpolated', async () => {
      const rows = `${dir}/rows`;
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `
const fs = require('node:fs');
const row = '0, GPU-3f1c2a4e-9b7d-4c21-8e55-0a1b2c3d4e5f, NVIDIA A100-SXM4-40GB, 100.00\\n';
process.stdout.write(row);
// Prints a round only when the test asks for one: in between it is a hung driver.
setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(rows)})) return;
  fs.unlinkSync(${JSON.stringify(rows)});
  process.stdout.write(row);
}, 10);
`,
      );
      let now = 0;
      let calls = 0;
      const clock = () => {
        calls++;
        return now;
      };
      const emit = async (at: number) => {
        now = at;
        const before = calls;
        writeFileSync(rows, '1');
        // sample() is not called meanwhile, so a clock call is the line arriving.
        await waitFor('another call of the fake', () => calls > before);
      };
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({ logger, intervalMs: 1000, binary, clock });
      expect((await source.probe()).ok).to.equal(true);
      await emit(1000);
      expect(source.sample(tick(1000))).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 100, watts: 100 },
      ]);

      now = 30_000;
      const stalled = { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true };
      expect(source.sample(tick(29_000))).to.deep.equal([stalled]);
      now = 31_000;
      expect(source.sample(tick(1000))).to.deep.equal([stalled]);
      expect(warnings()).to.have.length(1);
      expect(warnings()[0].msg).to.include('gpu0');
      expect(warnings()[0].msg).to.include('no power.draw line');

      await emit(40_000);
      await emit(41_000);
      // 40 s → 41 s at 100 W; 1 s → 40 s is a gap, not 3,900 J guessed from its two ends.
      expect(source.sample(tick(10_000))).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 100, watts: 100, partial: true },
      ]);
      now = 42_000;
      expect(source.sample(tick(1000))).to.deep.equal([]);
      expect(warnings()).to.have.length(1);
      await source.close();
    });

    // A process stopped for 12 s (SIGSTOP, `docker pause` of its container but not of the GPU
    // job, a loop blocked by a synchronous job) reads nvidia-smi's 12 lines of the stop in one
    // go: timed as read, they were a hung driver's silence, and the stop's 1,200 J were left out.
    it('lines that waited in the pipe while the process was stopped: the stop counted, no stall', async () => {
      const rows = `${dir}/rows`;
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `
const fs = require('node:fs');
const row = '0, GPU-a, NVIDIA H200, 100.00\\n';
process.stdout.write(row);
// Prints as many rows as the test asks for, in one write: the pipe's backlog, read at once.
setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(rows)})) return;
  const n = Number(fs.readFileSync(${JSON.stringify(rows)}, 'utf8'));
  fs.unlinkSync(${JSON.stringify(rows)});
  process.stdout.write(row.repeat(n));
}, 10);
`,
      );
      let now = 0;
      let calls = 0;
      const clock = () => {
        calls++;
        return now;
      };
      const emit = async (at: number, n: number) => {
        now = at;
        const before = calls;
        writeFileSync(rows, String(n));
        await waitFor('another call of the fake', () => calls > before);
      };
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({ logger, intervalMs: 1000, binary, clock });
      expect((await source.probe()).ok).to.equal(true);
      await emit(1000, 1);
      expect(source.sample(tick(1000))).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 100, watts: 100 },
      ]);
      // Printed at 2 s, 3 s ... 13 s; read at 13 s.
      await emit(13_000, 12);
      expect(source.sample(tick(12_000))).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 1200, watts: 100 },
      ]);
      expect(warnings()).to.deep.equal([]);
      await source.close();
    });

    it('a child that ends mid-run: one warning, its GPUs partial from then on, no hung-driver guess', async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `process.stdout.write('0, GPU-3f1c2a4e-9b7d-4c21-8e55-0a1b2c3d4e5f, NVIDIA A100-SXM4-40GB, 100.00\\n');
setTimeout(() => process.exit(1), 200);`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({ logger, intervalMs: 1000, binary, clock: () => now });
      expect((await source.probe()).ok).to.equal(true);
      await waitFor('a warning', () => warnings().length > 0);
      now = 30_000;
      expect(source.sample(tick(30_000))).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true },
      ]);
      expect(warnings().map((w) => w.msg)).to.deep.equal([
        'nvidia-smi: child ended (exit 1); GPU energy goes unread until it is started again (in 1000 ms)',
      ]);
      await source.close();
    });

    // Its last power was held to the meter's end up to the stall limit (10 s at the default
    // 1 s), however long before that the child had ended: 100 W for 4.9 s no line could show.
    it('holds no power to the end past a child that ended', async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `process.stdout.write('0, GPU-a, NVIDIA A100-SXM4-40GB, 100.00\\n');
setTimeout(() => process.exit(1), 200);`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({ logger, intervalMs: 1000, binary, clock: () => now });
      expect((await source.probe()).ok).to.equal(true);
      now = 100;
      expect(source.sample({ ...tick(0, undefined, 100), edge: 'start' })).to.deep.equal([]);
      await waitFor('a warning', () => warnings().length > 0);
      now = 5000;
      // Partial from its end on, no energy held past it.
      expect(source.sample({ ...tick(4900, undefined, 5000), edge: 'end' })).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true },
      ]);
      // And every interval after, before the stall limit too, until it prints again.
      now = 6000;
      expect(source.sample(tick(1000, undefined, 6000))).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 0, watts: 0, partial: true },
      ]);
      await source.close();
    });

    // The sampler reads its clock, then the host's sources, then this one: under load 10 ms on.
    // The window started there, 10 ms after the meter's baseline, and a steady GPU's power over
    // the meter's time read 77.0 W for 77.36 W over a 2 s monitor.
    it("counts from the meter's own instants at its start and end, not from when it is read", async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `process.stdout.write('0, GPU-a, NVIDIA A100-SXM4-40GB, 100.00\\n');
setInterval(() => {}, 1000);`,
      );
      let now = 0;
      const { logger } = captureLogger();
      const source = createNvidiaSmiSource({ logger, intervalMs: 1000, binary, clock: () => now });
      expect((await source.probe()).ok).to.equal(true);
      now = 110;
      expect(source.sample({ ...tick(0, undefined, 100), edge: 'start' })).to.deep.equal([]);
      now = 1005;
      expect(source.sample({ ...tick(900, undefined, 1000), edge: 'end' })).to.deep.equal([
        { component: 'gpu', device: 'gpu0', joules: 90, watts: 100 },
      ]);
      await source.close();
    });

    it('lines it cannot read are skipped, with one warning that shows one', async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `const rows = ['0, GPU-a, NVIDIA L4, 70.00', '1, GPU-b, NVIDIA L4, 30,50'];
const round = () => process.stdout.write(rows.join('\\n') + '\\n');
round();
setInterval(round, 20);`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({
        logger,
        intervalMs: 20,
        // A Node fake can take longer to start than the default 3 intervals + 2 s.
        probeTimeoutMs: 20_000,
        binary,
        clock: () => now,
        stallMs: Number.POSITIVE_INFINITY,
      });
      expect(await source.probe()).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA L4' });
      const devices = new Set<string>();
      await waitFor('a reading from the fake nvidia-smi', () => {
        now += 1000;
        for (const r of source.sample(tick(1000))) devices.add(r.device);
        return devices.size > 0 && warnings().length > 0;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect([...devices]).to.deep.equal(['gpu0']);
      expect(warnings().map((w) => w.msg)).to.deep.equal([
        'nvidia-smi: skipped a line it cannot read (power.draw "30,50" is no number): ' +
          '"1, GPU-b, NVIDIA L4, 30,50"; lines like it are skipped without a word',
      ]);
      await source.close();
    });

    // The warning quoted the line and its value raw: an escape sequence in it ran in the
    // terminal `run` and `monitor` log to, and a line of up to 64 KiB was written whole.
    it('the warning quotes a line it cannot read escaped and cut short', async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `const bad = '1, GPU-b, \\u001b[2J\\u009bNVIDIA L4, ' + '9'.repeat(5000) + ',5';
const rows = ['0, GPU-a, NVIDIA L4, 70.00', bad];
const round = () => process.stdout.write(rows.join('\\n') + '\\n');
round();
setInterval(round, 20);`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createNvidiaSmiSource({
        logger,
        intervalMs: 20,
        probeTimeoutMs: 20_000,
        binary,
        clock: () => now,
        stallMs: Number.POSITIVE_INFINITY,
      });
      expect(await source.probe()).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA L4' });
      await waitFor('a reading from the fake nvidia-smi', () => {
        now += 1000;
        source.sample(tick(1000));
        return warnings().length > 0;
      });
      await source.close();
      const [warning] = warnings();
      const said = `${warning.msg} ${JSON.stringify(warning)}`;
      expect(said).to.not.match(/\p{Cc}/u);
      expect(warning.msg).to.include('\\u001b[2J\\u009bNVIDIA L4');
      expect(warning.msg.length, warning.msg).to.be.below(500);
      expect(JSON.stringify(warning).length).to.be.below(1000);
    });

    it('absent binary: the probe fails with a short reason and no log line', async () => {
      const { logger, lines: logged } = captureLogger();
      const source = createNvidiaSmiSource({
        logger,
        intervalMs: 1000,
        binary: `${dir}/nvidia-smi`,
      });
      expect(await source.probe()).to.deep.equal({
        ok: false,
        reason: `${dir}/nvidia-smi not found`,
      });
      expect(logged).to.deep.equal([]);
      await source.close();
    });

    it('no driver: the probe fails with what nvidia-smi printed', async () => {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        `console.log("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."); process.exit(9);`,
      );
      const source = createNvidiaSmiSource({
        logger: captureLogger().logger,
        intervalMs: 100,
        binary,
      });
      const probe = await source.probe();
      expect(probe.ok ? '' : probe.reason).to.include(
        "couldn't communicate with the NVIDIA driver",
      );
    });
  });
});
