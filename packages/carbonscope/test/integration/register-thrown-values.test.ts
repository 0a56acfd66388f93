import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { type Finished, runToEnd } from '../helpers/spawn.js';
import { TEXTLESS_THROWS } from '../helpers/textless-throws.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

const APP = 'console.log("app ran")';
// A child that hangs (an entry that waits on what never comes) is killed and its test fails on
// what it printed: mocha's timeout alone would leave it running after the suite.
const HUNG_MS = 20_000;
const env = () =>
  childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300', OTEL_METRICS_EXPORTER: 'none' });

/** The application ran and ended well, and register said in one line that it runs unmetered. */
function ranUnmetered(run: Finished, said: string): void {
  expect(run.stdout, run.stderr).to.equal('app ran\n');
  expect(run.code, run.stderr).to.equal(0);
  expect(run.stderr).to.equal(
    `carbonscope: error: carbonscope/register: ${said}; the application runs unmetered\n`,
  );
}

/** A folder for the suite this is called in, `fill`ed before its tests and removed after. */
function folderOfSuite(fill: (dir: string) => void): () => string {
  let made: { dir: string; cleanup: () => void } | undefined;
  before(() => {
    made = tempDir('register-throws');
    fill(made.dir);
  });
  after(() => made?.cleanup());
  return () => made?.dir ?? '';
}

// Where register's rest throws as it loads, the entry reports the value in one line and the
// application runs unmetered. A value whose text cannot be read (no prototype, a message getter
// that throws) made that report throw in its turn: the application did not start.
describe('register whose rest throws a value with no text', function () {
  this.timeout(60_000);

  // The entries alone, as a bundle that took them leaves them: their own line, register-unmetered
  // being absent too. The rest is a module that throws the value.
  describe('the entry alone', () => {
    for (const { name, source, said } of TEXTLESS_THROWS) {
      describe(name, () => {
        const folder = folderOfSuite((dir) => {
          for (const entry of ['register', 'register-import']) {
            copyFileSync(
              join(libraryRoot, 'dist', 'src', `${entry}.js`),
              join(dir, `${entry}.mjs`),
            );
          }
          writeFileSync(join(dir, 'register-eager.js'), `throw ${source};\n`);
        });

        for (const [preload, entry] of [
          ['-r', 'register.mjs'],
          ['--import', 'register.mjs'],
          ['--import', 'register-import.mjs'],
        ] as const) {
          it(`${preload} ${entry}: one line, the application runs`, async () => {
            const run = await runToEnd(
              process.execPath,
              [preload, join(folder(), entry), '-e', APP],
              env(),
              { killAfterMs: HUNG_MS },
            );
            ranUnmetered(run, said);
          });
        }
      });
    }
  });

  // The package as installed, the value thrown by a getter on a global register reads, set by a
  // -r file (-r runs first). register-eager's first act reads its mark: it throws as it loads, and
  // register-unmetered says so. Its start reads OpenTelemetry's API global (whether the
  // application set a provider): that start fails, and register-eager says so itself.
  const GLOBALS = [
    { part: 'its load', key: 'carbonscope.register-present.v1' },
    { part: 'its start', key: 'opentelemetry.js.api.1' },
  ];
  for (const { part, key } of GLOBALS) {
    describe(`the package, ${part}`, () => {
      for (const { name, source, said } of TEXTLESS_THROWS) {
        describe(name, () => {
          const folder = folderOfSuite((dir) => {
            const getter = `{ get() { throw ${source}; } }`;
            const poison = `Object.defineProperty(globalThis, Symbol.for('${key}'), ${getter});`;
            writeFileSync(join(dir, 'poison.cjs'), `${poison}\n`);
          });

          for (const preload of ['-r', '--import']) {
            it(`${preload} carbonscope/register: one line, the application runs`, async () => {
              const poison = join(folder(), 'poison.cjs');
              const args = ['-r', poison, preload, 'carbonscope/register', '-e', APP];
              const run = await runToEnd(process.execPath, args, env(), {
                cwd: libraryRoot,
                killAfterMs: HUNG_MS,
              });
              ranUnmetered(run, said);
            });
          }
        });
      }
    });
  }
});
