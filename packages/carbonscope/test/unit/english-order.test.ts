import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { englishOrder } from '../../src/english-order.js';

const NAMES = ['/z', '/ab', '/é', '/a_b', '/aB'];

/** The names as englishOrder sorts them in a process whose Intl is gone at load. */
function sortedWithoutIntl(names: string[]): string[] {
  const module = new URL('../../src/english-order.js', import.meta.url).href;
  const script = `const { englishOrder } = await import(${JSON.stringify(module)});
process.stdout.write(JSON.stringify(${JSON.stringify(names)}.sort(englishOrder)));`;
  const out = execFileSync(
    process.execPath,
    ['--import=data:text/javascript,delete globalThis.Intl', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

describe('englishOrder', () => {
  it('sorts in English with Intl', () => {
    expect([...NAMES].sort(englishOrder)).to.deep.equal(['/a_b', '/ab', '/aB', '/é', '/z']);
  });

  // A Node built --without-intl: the order its comment states, the same from any start.
  it('falls back to code-unit order without Intl, total and stable', () => {
    const order = ['/aB', '/a_b', '/ab', '/z', '/é'];
    expect(sortedWithoutIntl(NAMES)).to.deep.equal(order);
    expect(sortedWithoutIntl([...NAMES].reverse())).to.deep.equal(order);
  });
});
