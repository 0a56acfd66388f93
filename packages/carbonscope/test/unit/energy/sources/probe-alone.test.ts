import { expect } from 'chai';
import { childEnv } from '../../../helpers/child-env.js';
import { type Finished, runToEnd } from '../../../helpers/spawn.js';
import { fixture, tempDir, writeFakeBinary } from './helpers.js';

// A probe awaited in a process with nothing else to do: `carbonscope monitor` and a script's
// `await tracker.start()` are such processes. On a real H200, monitor printed nothing and Node
// ended it with code 13 (a top-level await that never settled): the probe waited on an unref'd
// child and an unref'd timer only.
const SOURCES = new URL('../../../../src/energy/sources/index.js', import.meta.url).href;

const H200_LINE = '0, GPU-d8e27244-0719-2aa8-0140-8c7d084b3152, NVIDIA H200, 77.36';

/** Runs `await source.probe()` as a whole ES module and prints what it resolved to. */
function probeAlone(create: string): Promise<Finished> {
  const script = `
import * as s from ${JSON.stringify(SOURCES)};
const logger = { info() {}, warn() {}, error() {}, debug() {}, child() { return logger; } };
const source = ${create};
const result = await source.probe();
console.log(JSON.stringify(result));
await source.close?.();
`;
  return runToEnd(process.execPath, ['--input-type=module', '-e', script], childEnv());
}

// The successful probes wait up to 20 s: a loaded 2-core machine can take longer than the
// default 2.6 s to start the fake (a Node script), and the line comes 300 ms after that.
describe('energy/sources: a probe awaited with nothing else alive', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('probe-alone'));
  });
  afterEach(() => cleanup());

  it('nvidia-smi: resolves once the first line comes, even 300 ms after the spawn', async () => {
    const binary = writeFakeBinary(
      dir,
      'nvidia-smi',
      `setTimeout(() => { process.stdout.write(${JSON.stringify(`${H200_LINE}\n`)}); setInterval(() => process.stdout.write(${JSON.stringify(`${H200_LINE}\n`)}), 200); }, 300);`,
    );
    const r = await probeAlone(
      `s.createNvidiaSmiSource({ logger, intervalMs: 200, probeTimeoutMs: 20000, binary: ${JSON.stringify(binary)} })`,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ ok: true, detail: 'gpu0 NVIDIA H200' });
  });

  it('nvidia-smi: resolves to its timeout when nothing is printed', async () => {
    const binary = writeFakeBinary(dir, 'nvidia-smi', 'setInterval(() => {}, 1000);');
    const r = await probeAlone(
      `s.createNvidiaSmiSource({ logger, intervalMs: 100, probeTimeoutMs: 300, binary: ${JSON.stringify(binary)} })`,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ ok: false });
  });

  it('powermetrics: resolves once the first sample comes, even 300 ms after the spawn', async () => {
    const binary = writeFakeBinary(
      dir,
      'powermetrics',
      `const text = require('node:fs').readFileSync(${JSON.stringify(fixture('powermetrics-intel.txt'))}, 'utf8');
setTimeout(() => { process.stdout.write(text); setInterval(() => process.stdout.write(text), 200); }, 300);`,
    );
    const r = await probeAlone(
      `s.createPowermetricsSource({ logger, intervalMs: 200, probeTimeoutMs: 20000, binary: ${JSON.stringify(binary)} })`,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ ok: true });
  });
});
