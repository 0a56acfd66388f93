import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';

// A CI page keeps only the end of npm test's output, where the Node 24 run's thousand lines had
// pushed out the name of the one test that failed in the first run: npm test now prints each
// run's failures again above its last line, as tools/failures-in-log.sh finds them in a run's log.
describe('test tools: what a run says of its failures, printed again at the end', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-failures-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const failuresIn = (log: string): string => {
    const file = join(dir, 'run.log');
    writeFileSync(file, log);
    return execFileSync('bash', [join(projectRoot, 'tools/failures-in-log.sh'), file], {
      encoding: 'utf8',
    });
  };

  it("keeps mocha's failing list, its colours taken off, and not the closing line", () => {
    const log = [
      '  \x1b[32m✔\x1b[39m passes',
      '',
      '\x1b[32m  1 passing\x1b[39m',
      '\x1b[31m  1 failing\x1b[39m',
      '',
      '  1) a suite',
      '       does a thing:',
      '     AssertionError: expected 1 to equal 2',
      'tests: 1 passed, 1 failed',
      '',
    ].join('\n');
    expect(failuresIn(log)).to.equal(
      [
        '  1 failing',
        '',
        '  1) a suite',
        '       does a thing:',
        '     AssertionError: expected 1 to equal 2',
        '',
      ].join('\n'),
    );
  });

  it('keeps the leftover-files line, once, with or without failing tests', () => {
    const leftover = 'leftover temp files: x (after the last test)';
    expect(failuresIn(`  2 passing\n${leftover}\ntests: 2 passed, 1 failed\n`)).to.equal(
      `${leftover}\n`,
    );
    expect(failuresIn(`  1 failing\n  1) t\n${leftover}\ntests: 0 passed, 2 failed\n`)).to.equal(
      `  1 failing\n  1) t\n${leftover}\n`,
    );
  });

  it('says nothing of a run that passed', () => {
    expect(failuresIn('  ✔ a\n\n  1 passing\ntests: 1 passed, 0 failed\n')).to.equal('');
  });

  it('keeps the last lines of a run that ended without its closing line', () => {
    const out = failuresIn(`${Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n')}\n`);
    expect(out.split('\n')[0]).to.equal(
      'a run that ended without its closing line; its last lines:',
    );
    expect(out).to.include('line 39').and.not.include('line 9\n');
  });

  it('keeps at most 200 lines of a long list', () => {
    const many = Array.from({ length: 500 }, (_, i) => `  ${i + 1}) t`).join('\n');
    const out = failuresIn(`  500 failing\n${many}\ntests: 0 passed, 500 failed\n`);
    expect(out.trimEnd().split('\n')).to.have.lengthOf(200);
  });
});
