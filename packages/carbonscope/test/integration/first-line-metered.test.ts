import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { node24 } from '../helpers/node24.js';
import { scratchFolder } from '../helpers/scratch-folder.js';

const REGISTER = join(libraryRoot, 'dist/src/register.js');
const INDEX = join(libraryRoot, 'dist/src/index.js');

/**
 * An nvidia-smi that answers nothing for 1.5 s and then fails: the probe waits for it, as for a
 * real one without persistence mode, and the script's first lines run meanwhile.
 */
const SLOW_NVIDIA_SMI = '#!/bin/sh\nsleep 1.5\nexit 9\n';

/**
 * Rows tracked from the script's first line (about half a second of CPU), then, once the meter
 * has run, the same work again untracked as the reference: the process's energy per CPU second
 * of the first part is compared with the second's. `load` is how the script gets carbonscope's
 * API (an import, or a require under -r).
 */
function script(load: string): string {
  return `${load}
const firstLineAt = performance.timeOrigin + performance.now();
const ROWS = 15000;
let x = 0;
const burn = () => { for (let j = 0; j < 4000; j++) x += Math.sqrt(j); };
const cpuOf = (from) => { const d = process.cpuUsage(from); return (d.user + d.system) / 1e6; };
const c0 = process.cpuUsage();
for (let i = 0; i < ROWS; i++) track('row', burn);
const firstCpu = cpuOf(c0);
setTimeout(() => {
  const s1 = snapshot();
  const c1 = process.cpuUsage();
  for (let i = 0; i < ROWS; i++) burn();
  const refCpu = cpuOf(c1);
  setTimeout(() => {
    const s2 = snapshot();
    const row = s1.operations.find((o) => o.operation === 'row');
    console.log(JSON.stringify({
      sinceStartMs: firstLineAt - Date.parse(s1.startedAt), firstCpu, firstJ: s1.totals.process.joules, refCpu,
      refJ: s2.totals.process.joules - s1.totals.process.joules,
      rows: row ? row.count : 0, rowJoules: row ? row.count * row.joules : 0, x: x > 0,
    }));
  }, 1300);
}, 2500);
`;
}

interface Figures {
  /**
   * How long after the meter's startedAt (its early baseline, register's create()) the script's
   * first line ran.
   */
  sinceStartMs: number;
  firstCpu: number;
  firstJ: number;
  refCpu: number;
  refJ: number;
  rows: number;
  rowJoules: number;
}

// Under `node --import carbonscope/register script.mjs` on Node 24, and `-r` on every Node, the
// script's first line runs before the power sources' probe ends (an nvidia-smi slow to answer):
// the meter began its first interval only then, so that work was in no reading, and its track()s
// ran untracked. 30,000 rows of 1.3 s of CPU had 0.49 J of 4.1 J and no row on Node 24
// (2026-12-06); here, before the fix, 15,000 rows had 0.004-0.08 J against some 1.5 J.
describe("work from a script's first line under register, while a slow source is probed", () => {
  const folder = scratchFolder('first-line-');

  async function run(nodeBin: string, flags: string[], file: string, text: string) {
    await folder.file(file, text);
    const bin = await folder.file('bin/nvidia-smi', SLOW_NVIDIA_SMI);
    await chmod(bin, 0o755);
    const env = childEnv({
      PATH: `${join(folder.dir, 'bin')}:${process.env.PATH ?? ''}`,
      ENERGY_SOURCE: 'nvidia-smi',
      CARBON_INTENSITY: '300',
      OTEL_METRICS_EXPORTER: 'none',
    });
    const { stdout } = await promisify(execFile)(nodeBin, [...flags, join(folder.dir, file)], {
      cwd: folder.dir,
      env,
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    const figures = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
    return { figures };
  }

  function expectMetered(f: Figures): void {
    const first = f.firstJ / f.firstCpu;
    const ref = f.refJ / f.refCpu;
    // Metered, the first part's energy per CPU second was 0.44 to 1 times the reference's (the
    // estimate's power per busy CPU follows the host's load, which other processes change, and
    // the first interval holds the probe's idle time); unmetered, 0.013 to 0.04 of it.
    expect(first, JSON.stringify(f)).to.be.greaterThan(ref * 0.25);
    expect(f.rows, JSON.stringify(f)).to.equal(15000);
    expect(f.rowJoules, JSON.stringify(f)).to.be.greaterThan(0);
    // The rows take no more than the process used.
    expect(f.rowJoules, JSON.stringify(f)).to.be.at.most(f.firstJ * 1.0001);
  }

  it('is metered under --import on Node 24, start-up held for no probe', async function () {
    this.timeout(60_000);
    const { figures } = await run(
      node24(),
      ['--import', REGISTER],
      'rows.mjs',
      script(`import { snapshot, track } from ${JSON.stringify(INDEX)};`),
    );
    expectMetered(figures);
    // The script's first line ran while the probe waited 1.5 s for nvidia-smi: nothing held it.
    // The snapshot's startedAt is where its totals begin, before that line (a Date.now() in ms).
    expect(figures.sinceStartMs, JSON.stringify(figures)).to.be.within(-1, 1000);
  });

  it('is metered under -r on this Node', async function () {
    this.timeout(60_000);
    const { figures } = await run(
      process.execPath,
      ['-r', REGISTER],
      'rows.cjs',
      script(`const { snapshot, track } = require(${JSON.stringify(INDEX)});`),
    );
    expectMetered(figures);
  });
});
