import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { STEADY_V8_ARGS } from '../../bench/servers.js';

// In a process of its own, with no major collection of V8's own (STEADY_V8_ARGS): in the test
// run's process a natural one fell between the forced ones once, and the count read 3 for 2.
const script = `
const { majorGcCounter } = await import(${JSON.stringify(new URL('../../bench/major-gcs.js', import.meta.url).href)});
const counter = majorGcCounter();
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
gc({ type: 'minor' });
await settle();
const afterMinor = counter.count();
gc();
gc();
await settle();
console.log(JSON.stringify({ afterMinor, afterMajor: counter.count() }));
counter.stop();
`;

describe('bench: majorGcCounter', () => {
  it('counts forced full collections and not the young generation', () => {
    const out = execFileSync(
      process.execPath,
      [...STEADY_V8_ARGS, '--expose-gc', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(JSON.parse(out)).to.deep.equal({ afterMinor: 0, afterMajor: 2 });
  });
});
