import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { foldersWithoutSource, misplacedTests } from '../helpers/test-layout.js';

// The library's unit tests and the app's, each beside the source tree it mirrors.
const TREES = [
  {
    tests: join('packages', 'carbonscope', 'test', 'unit'),
    src: join('packages', 'carbonscope', 'src'),
  },
  { tests: join('test', 'unit'), src: 'src' },
];

// Test folders with no source folder of their name: what they test lives elsewhere.
const ELSEWHERE = new Map([
  [join('test', 'unit', 'bench'), 'the benchmarks under test/bench'],
  [join('test', 'unit', 'stack'), 'the stack: compose, Collector, Prometheus, Grafana, the image'],
]);

describe('unit test layout (a test named after a module sits where the module does)', () => {
  it('has each test named after a module or folder in the folder that mirrors it', () => {
    const offences = TREES.flatMap(({ tests, src }) => misplacedTests(projectRoot, tests, src)).map(
      ({ test, wanted }) => `${test}: move it to ${wanted.join(' or ')}`,
    );
    if (offences.length > 0) {
      expect.fail(
        `${offences.length} unit tests are not where their module is (git mv them, or say ` +
          `why in a line '// Apart from its module: …'):\n${offences.join('\n')}`,
      );
    }
  });

  it('has no test folder without a source folder of its name, but those named here', () => {
    const strays = TREES.flatMap(({ tests, src }) =>
      foldersWithoutSource(projectRoot, tests, src),
    ).filter(
      (folder) =>
        ![...ELSEWHERE.keys()].some((k) => folder === k || folder.startsWith(`${k}${sep}`)),
    );
    expect(strays, 'test folders whose source folder is gone or was renamed').to.deep.equal([]);
  });

  it('names a test out of place, takes a folder test beside its folder, and reads a reason', () => {
    const root = mkdtempSync(join(tmpdir(), 'test-layout-'));
    const write = (path: string, text = '') => {
      mkdirSync(join(root, dirname(path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    try {
      for (const module of ['otel/sdk/rpc.ts', 'otel/scope.ts', 'cli/tree/index.ts', 'own.cts']) {
        write(`src/${module}`);
      }
      write('test/unit/otel/rpc.test.ts');
      write('test/unit/otel/scope.test.ts');
      write('test/unit/cli/tree.test.ts');
      write('test/unit/cli/own.test.ts');
      write('test/unit/otel/sdk/scope.test.ts', '// Apart from its module: it reads sdk/ only.\n');
      write('test/unit/otel/exemplars-kept.test.ts');
      expect(misplacedTests(root, join('test', 'unit'), 'src')).to.have.deep.members([
        {
          test: join('test', 'unit', 'cli', 'own.test.ts'),
          wanted: [join('test', 'unit', 'own.test.ts')],
        },
        {
          test: join('test', 'unit', 'otel', 'rpc.test.ts'),
          wanted: [join('test', 'unit', 'otel', 'sdk', 'rpc.test.ts')],
        },
      ]);
      write('test/unit/gone/x.test.ts');
      expect(foldersWithoutSource(root, join('test', 'unit'), 'src')).to.deep.equal([
        join('test', 'unit', 'gone'),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
