import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  blockPower,
  createPowermetricsSource,
  parsePowermetrics,
} from '../../../../src/energy/sources/powermetrics.js';
import type { EnergyReading } from '../../../../src/energy/sources/source.js';
import { waitFor } from '../../../helpers/wait.js';
import {
  captureLogger,
  fakePid,
  fixture,
  fixtureText,
  isAlive,
  tempDir,
  tick,
  writeFakeBinary,
} from './helpers.js';

const mw = (block: Parameters<typeof blockPower>[0]) =>
  Object.fromEntries(blockPower(block).map((p) => [`${p.component}:${p.device}`, p.mw]));

/** A fake powermetrics that prints the fixture's blocks, one per `-i` interval, forever. */
const LOOPING_FAKE = (fixturePath: string) => `
const text = require('node:fs').readFileSync(${JSON.stringify(fixturePath)}, 'utf8');
const interval = Number(args[args.indexOf('-i') + 1]);
if (args.join(' ') !== '--samplers cpu_power,gpu_power -i ' + interval) process.exit(64);
const parts = text.split(/(?=\\*\\*\\* Sampled)/);
process.stdout.write(parts[0]);
let i = 1;
setInterval(() => {
  process.stdout.write(parts[1 + ((i - 1) % (parts.length - 1))]);
  i++;
}, interval);
`;

describe('energy/sources/powermetrics', () => {
  describe('parser', () => {
    it('Apple Silicon with the Combined line: mW and W, CPU/GPU as printed, ANE as the rest', () => {
      const blocks = parsePowermetrics(fixtureText('powermetrics-apple-combined.txt'));
      expect(blocks).to.have.length(2);
      expect(blocks[0]).to.deep.equal({
        elapsedMs: 1012.07,
        cpuMw: 211,
        gpuMw: 147,
        aneMw: 12,
        combinedMw: 370,
      });
      expect(mw(blocks[0])).to.deep.equal({
        'cpu:cpu': 211,
        'gpu:gpu': 147,
        'package:package': 12,
      });
      expect(blocks[1].elapsedMs).to.equal(1000);
      expect(mw(blocks[1])).to.deep.equal({
        'cpu:cpu': 1250,
        'gpu:gpu': 500,
        'package:package': 0,
      });
    });

    it('Apple Silicon without the Combined line: clusters, DRAM and Package Power', () => {
      const blocks = parsePowermetrics(fixtureText('powermetrics-apple-legacy.txt'));
      expect(blocks.map((b) => b.elapsedMs)).to.deep.equal([1004.5, 995.5]);
      // CPU line wins over its clusters; package = 40 - 10 - 3, DRAM beside it
      expect(mw(blocks[0])).to.deep.equal({
        'cpu:cpu': 10,
        'gpu:gpu': 3,
        'dram:dram': 19,
        'package:package': 27,
      });
      // No CPU line: the clusters (120 + 2880) stand for it; package = 3300 - 3000 - 50
      expect(mw(blocks[1])).to.deep.equal({
        'cpu:cpu': 3000,
        'gpu:gpu': 50,
        'dram:dram': 150,
        'package:package': 250,
      });
    });

    // Facts (/work/shared/facts/power-sources.md, macOS powermetrics), older macOS on Apple
    // Silicon: `E-Cluster Power: 6 mW`, `P-Cluster Power: 4 mW`, `DRAM Power: 19 mW`,
    // `Package Power: 25 mW`. A package of 25 mW beside 19 mW of DRAM and 10 mW of CPU is the
    // SoC without its memory (as users measured on Apple's forum, thread 709276): the host is
    // package + DRAM, not a package that already holds the DRAM.
    it('older Apple Silicon: DRAM is outside Package Power and added to it', () => {
      const text = [
        '*** Sampled system activity (Mon Oct 23 16:51:12 2023 +0200) (1012.07ms elapsed) ***',
        'E-Cluster Power: 6 mW',
        'P-Cluster Power: 4 mW',
        'DRAM Power: 19 mW',
        'Package Power: 25 mW',
      ].join('\n');
      const [block] = parsePowermetrics(text);
      expect(mw(block)).to.deep.equal({
        'cpu:cpu': 10,
        'dram:dram': 19,
        'package:package': 15,
      });
      const host = blockPower(block).reduce((sum, p) => sum + p.mw, 0);
      expect(host).to.equal(25 + 19);
    });

    it('Intel Mac: the energy-model package line (W without a space)', () => {
      const blocks = parsePowermetrics(fixtureText('powermetrics-intel.txt'));
      expect(blocks.map(mw)).to.deep.equal([
        { 'package:package': 4870 },
        { 'package:package': 12100 },
      ]);
      expect(blocks.map((b) => b.elapsedMs)).to.deep.equal([1003.5, 996.5]);
    });

    it('a total below its parts counts as the parts (never a negative rest)', () => {
      // Lines sampled a moment apart: a package line below its CPU and GPU lines.
      expect(mw({ elapsedMs: 1000, cpuMw: 10, gpuMw: 3, dramMw: 19, packageMw: 12 })).to.deep.equal(
        {
          'cpu:cpu': 10,
          'gpu:gpu': 3,
          'dram:dram': 19,
          'package:package': 0,
        },
      );
    });

    it('the non-root message yields no block', () => {
      expect(parsePowermetrics(fixtureText('powermetrics-not-root.txt'))).to.deep.equal([]);
    });
  });

  describe('child process', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => {
      ({ dir, cleanup } = tempDir('powermetrics'));
    });
    afterEach(() => cleanup());

    it('spawns one child, drains the energy of each block, and kills the child on close()', async () => {
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        LOOPING_FAKE(fixture('powermetrics-intel.txt')),
      );
      const { logger, warnings } = captureLogger();
      const source = createPowermetricsSource({
        logger,
        intervalMs: 50,
        binary,
        // A Node fake can take longer to start than the default 3 intervals + 2 s.
        probeTimeoutMs: 20_000,
      });
      const probe = await source.probe();
      expect(probe.ok, JSON.stringify(probe)).to.equal(true);
      const pid = fakePid(dir, 'powermetrics');
      expect(isAlive(pid)).to.equal(true);

      // Blocks alternate 4.87 W × 1003.5 ms and 12.10 W × 996.5 ms (their own elapsed times).
      const seen: number[] = [];
      let joules = 0;
      await waitFor('a reading from the fake powermetrics', () => {
        for (const r of source.sample(tick(50))) {
          joules += r.joules;
          seen.push(r.watts);
        }
        return joules > 4.87 * 1.0035 + 12.1 * 0.9965;
      });
      const perBlock = [4.87 * 1.0035, 12.1 * 0.9965];
      // Whatever was drained is a whole number of blocks of the fixture.
      const n = Math.round(joules / ((perBlock[0] + perBlock[1]) / 2));
      const expected = Array.from({ length: n }, (_, i) => perBlock[i % 2]).reduce((a, b) => a + b);
      expect(joules).to.be.closeTo(expected, 1e-9);
      for (const w of seen) expect(w).to.be.within(4.87 - 1e-9, 12.1 + 1e-9);
      expect(source.sample(tick(0)).length).to.be.at.most(1);

      await source.close();
      await waitFor('the fake powermetrics to end', () => !isAlive(pid));
      expect(warnings()).to.deep.equal([]);
    });

    it('not root: the probe fails with the superuser message and a fix; no child is left', async () => {
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        `process.stderr.write(require('node:fs').readFileSync(${JSON.stringify(
          fixture('powermetrics-not-root.txt'),
        )}, 'utf8')); process.exit(1);`,
      );
      const source = createPowermetricsSource({
        logger: captureLogger().logger,
        intervalMs: 1000,
        binary,
      });
      const probe = await source.probe();
      expect(probe.ok).to.equal(false);
      expect(probe.ok ? '' : probe.reason).to.include('must be invoked as the superuser');
      expect(probe.ok ? '' : probe.reason).to.include('root');
      await waitFor('the fake powermetrics to end', () => !isAlive(fakePid(dir, 'powermetrics')));
      await source.close();
    });

    // Facts (/work/shared/facts/power-sources.md, macOS powermetrics): each block starts with the
    // `*** Sampled system activity ... ***` line and holds the power lines. Blocks without any
    // (a sampler that reports nothing here) measure nothing: not a source, and not 0 W measured.
    it('blocks without any power line: the probe fails saying so, not a measured 0 W', async () => {
      const block =
        '*** Sampled system activity (Mon Oct 23 16:51:12 2023 +0200) (1012.07ms elapsed) ***\n\n' +
        '**** Processor usage ****\n\nE-Cluster HW active frequency: 1105 MHz\n' +
        'E-Cluster idle residency:  61.98%\n\n';
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        `const block = ${JSON.stringify(block)};
process.stdout.write(block);
setInterval(() => process.stdout.write(block), Number(args[args.indexOf('-i') + 1]));`,
      );
      // The deadline is passed on the source's clock as soon as the probe starts: the first
      // block settles it, however long the child takes to start. With a 500 ms timer alone,
      // a loaded 2-core machine once started the child later than that ("no sample").
      let now = 0;
      const source = createPowermetricsSource({
        logger: captureLogger().logger,
        intervalMs: 50,
        binary,
        // The timer settles only if no block ever comes, within mocha's 30 s.
        probeTimeoutMs: 20_000,
        clock: () => now,
      });
      const probing = source.probe();
      now = 20_000;
      const probe = await probing;
      expect(probe.ok).to.equal(false);
      expect(probe.ok ? '' : probe.reason).to.match(
        new RegExp(`^${binary} printed \\d+ samples? without a power line within 20000 ms$`),
      );
      expect(source.sample(tick(1000))).to.deep.equal([]);
      await waitFor('the fake powermetrics to end', () => !isAlive(fakePid(dir, 'powermetrics')));
      await source.close();
    });

    it('absent binary: the probe fails saying so', async () => {
      const source = createPowermetricsSource({
        logger: captureLogger().logger,
        intervalMs: 1000,
        binary: `${dir}/no-such-powermetrics`,
      });
      const probe = await source.probe();
      expect(probe).to.deep.equal({
        ok: false,
        reason: `${dir}/no-such-powermetrics not found (not macOS?)`,
      });
      expect(source.sample(tick(1000))).to.deep.equal([]);
    });

    it('a child that dies mid-run: sample() says why from then on, the source logs nothing', async () => {
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        `${LOOPING_FAKE(fixture('powermetrics-apple-combined.txt'))}\nsetTimeout(() => process.stderr.write('IOReport channel gone\\n', () => process.exit(3)), 300);`,
      );
      const { logger, warnings } = captureLogger();
      const source = createPowermetricsSource({
        logger,
        intervalMs: 50,
        binary,
        // A Node fake can take longer to start than the default 3 intervals + 2 s.
        probeTimeoutMs: 20_000,
      });
      expect((await source.probe()).ok).to.equal(true);
      const why = () => {
        try {
          source.sample(tick(50));
          return '';
        } catch (err) {
          return (err as Error).message;
        }
      };
      await waitFor('a reason from powermetrics stderr', () => why() !== '');
      // Stderr after the probe is not accumulated, but its latest chunk still says why.
      expect(why()).to.equal('child ended (IOReport channel gone); no more readings');
      // Whoever samples says it once (the hand-over to the estimate, else the meter).
      expect(warnings()).to.deep.equal([]);
      await source.close();
    });

    // nvidia-smi's hung driver is caught (a GPU silent past its stall limit); a powermetrics
    // that hung left the host at a measured 0 W for as long as it stayed silent.
    it('a child that hangs mid-run: past the stall limit sample() says so; its blocks count again', async () => {
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        `const fs = require('node:fs');
const text = fs.readFileSync(${JSON.stringify(fixture('powermetrics-intel.txt'))}, 'utf8');
const parts = text.split(/(?=\\*\\*\\* Sampled)/);
// A block is complete when the next one's header comes: one block now, then silence.
process.stdout.write(parts[0] + parts[1] + parts[2]);
const go = ${JSON.stringify(`${dir}/go`)};
const wait = setInterval(() => {
  if (!fs.existsSync(go)) return;
  clearInterval(wait);
  // Its first block after the silence spans it: 20 s, of which the estimate covered 11.
  process.stdout.write(parts[1].replace('1003.50ms', '20000.00ms') + parts[2]);
}, 20);
setInterval(() => undefined, 1000);`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createPowermetricsSource({
        logger,
        intervalMs: 1000,
        binary,
        clock: () => now,
      });
      expect((await source.probe()).ok).to.equal(true);
      expect(source.sample(tick(1000)).length).to.equal(1);
      now = 9_000;
      expect(source.sample(tick(1000))).to.deep.equal([]);
      now = 11_000;
      expect(() => source.sample(tick(1000))).to.throw('printed no sample in 11000 ms (hung?)');
      writeFileSync(`${dir}/go`, '');
      now = 12_000;
      let back: EnergyReading[] = [];
      // Polled with empty ticks: a tick that throws is one the estimate covers.
      await waitFor('a reading from the fake powermetrics', () => {
        try {
          back = source.sample(tick(0));
          return back.length > 0;
        } catch {
          return false;
        }
      });
      // The block held from before the silence (12.1 W × 996.5 ms) counts whole; the one that
      // spans the silence, all but the second the throw left to the estimate: 4.87 W × 19 s.
      expect(back.map((r) => [r.device, Number(r.joules.toFixed(6))])).to.deep.equal([
        ['package', 104.58765],
      ]);
      expect(warnings()).to.deep.equal([]);
      await source.close();
    });

    // A sampler that stops reporting power mid-run (a block with its header and no power line,
    // every interval) timed the silence from each block: never stalled, so the host read as a
    // measured 0 W for as long as it went on, where a silent child hands over to the estimate.
    it('a child that keeps printing blocks without a power line mid-run: past the stall limit sample() says so', async () => {
      const empty =
        '*** Sampled system activity (Mon Oct 23 16:51:12 2023 +0200) (1000.00ms elapsed) ***\n\n' +
        '**** Processor usage ****\n\nE-Cluster HW active frequency: 1105 MHz\n\n';
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        `const fs = require('node:fs');
const text = fs.readFileSync(${JSON.stringify(fixture('powermetrics-intel.txt'))}, 'utf8');
const parts = text.split(/(?=\\*\\*\\* Sampled)/);
process.stdout.write(parts[0] + parts[1] + parts[2]);
const empty = ${JSON.stringify(empty)};
let written = 0;
const wait = setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(`${dir}/go`)})) return;
  // Counted once written: the test knows they are in the pipe.
  process.stdout.write(empty, () => fs.writeFileSync(${JSON.stringify(`${dir}/written`)}, String(++written)));
}, 20);`,
      );
      let now = 0;
      const { logger, warnings } = captureLogger();
      const source = createPowermetricsSource({
        logger,
        intervalMs: 1000,
        binary,
        clock: () => now,
      });
      expect((await source.probe()).ok).to.equal(true);
      expect(source.sample(tick(1000)).length).to.equal(1);
      now = 5_000;
      writeFileSync(`${dir}/go`, '');
      const written = () => {
        try {
          return Number(readFileSync(`${dir}/written`, 'utf8'));
        } catch {
          return 0;
        }
      };
      // Blocks without power have come (and keep coming) while the clock reads 5 s ...
      await waitFor('three lines written', () => written() >= 3);
      await new Promise((r) => setTimeout(r, 100));
      // The first of them completed the block held from before (12.10 W × 996.5 ms).
      expect(source.sample(tick(1000)).map((r) => Number(r.joules.toFixed(5)))).to.deep.equal([
        12.05765,
      ]);
      // ... and past the limit, counted from the last block with power (completed at 5 s, by
      // the first header after it), the estimate covers.
      now = 16_000;
      await new Promise((r) => setTimeout(r, 100));
      let error: (Error & { kind?: string }) | undefined;
      try {
        source.sample(tick(1000));
      } catch (err) {
        error = err as Error & { kind?: string };
      }
      expect(error?.message).to.match(
        /^printed \d+ samples? without a power line in 11000 ms; no power is measured$/,
      );
      expect(error?.kind).to.equal('no power');
      expect(warnings()).to.deep.equal([]);
      await source.close();
    });

    // Blocks can come late without any of them spanning the silence: our own event loop blocked
    // past the stall limit (the tick runs before the pipe is read), or the child's stdout
    // flushed in bursts. The ticks the estimate covered were counted again by those blocks, and
    // the covered time, left over, was later taken off a long block that spanned no stall.
    it('blocks that come late in a burst after a stall: the time the estimate covered counts once', async () => {
      const binary = writeFakeBinary(
        dir,
        'powermetrics',
        `const fs = require('node:fs');
const text = fs.readFileSync(${JSON.stringify(fixture('powermetrics-intel.txt'))}, 'utf8');
const parts = text.split(/(?=\\*\\*\\* Sampled)/);
process.stdout.write(parts[0] + parts[1] + parts[2]);
const steps = [
  // Held back, then all at once: the 12.10 W block, then four of 4.87 W (1003.5 ms each).
  () => process.stdout.write(parts[1].repeat(4) + parts[2]),
  // Later, no stall: the 12.10 W block, and one of 4.87 W that spans 20 s.
  () => process.stdout.write(parts[1].replace('1003.50ms', '20000.00ms') + parts[2]),
];
let step = 0;
setInterval(() => {
  if (step < steps.length && fs.existsSync(${JSON.stringify(`${dir}/go`)} + step)) steps[step++]();
}, 20);`,
      );
      let now = 0;
      const source = createPowermetricsSource({
        logger: captureLogger().logger,
        intervalMs: 1000,
        binary,
        clock: () => now,
      });
      expect((await source.probe()).ok).to.equal(true);
      expect(source.sample(tick(1000)).length).to.equal(1);
      // Three ticks of 1 s past the stall limit, covered by the estimate.
      for (now = 11_000; now <= 13_000; now += 1000) {
        expect(() => source.sample(tick(1000))).to.throw('hung?');
      }
      const drain = async (step: number): Promise<number> => {
        writeFileSync(`${dir}/go${step}`, '');
        let readings: EnergyReading[] = [];
        await waitFor('a reading from the fake powermetrics', () => {
          try {
            readings = source.sample(tick(0));
            return readings.length > 0;
          } catch {
            return false;
          }
        });
        return Number(readings.reduce((sum, r) => sum + r.joules, 0).toFixed(6));
      };
      // 5010.5 ms of blocks, of which the newest 3000 ms were the estimate's: 12.10 W × 996.5 ms
      // + 4.87 W × 1014 ms are left. Counted whole, they made 31.60583 J.
      expect(await drain(0)).to.equal(16.99583);
      // 12.10 W × 996.5 ms + 4.87 W × 20 s, whole: the stall was settled by the burst.
      expect(await drain(1)).to.equal(109.45765);
      await source.close();
    });
  });
});
