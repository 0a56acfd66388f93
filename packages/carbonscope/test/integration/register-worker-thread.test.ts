import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { type Finished, linesOf, runToEnd } from '../helpers/spawn.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

const PROBE = join(libraryRoot, 'test', 'fixtures', 'register', 'worker-loads.js');

interface Loaded {
  builtins: string[];
  commonjs: string[];
}

/** What the probe's worker thread loaded before its own code ran, under Node's `preload`. */
async function workerLoads(preload: string[]): Promise<Loaded> {
  const { stdout } = await promisify(execFile)(process.execPath, [...preload, PROBE], {
    cwd: libraryRoot,
    env: childEnv({
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      OTEL_METRICS_EXPORTER: 'none',
    }),
  });
  return JSON.parse(stdout) as Loaded;
}

// A worker thread inherits --import and -r, and register does nothing there: loading its graph
// (~250 modules) made each worker of a pool start some 8 times slower. Asked of the modules
// loaded, not of a time: the built-ins the graph takes (node:http, node:cluster...) and its
// CommonJS packages (@opentelemetry/api, i18n-iso-countries).
describe('register in a worker thread', function () {
  this.timeout(60_000);
  let bare: Loaded;
  before(async () => {
    bare = await workerLoads([]);
  });

  /** The built-ins a worker loaded beyond those it loads without register. */
  const extra = (loaded: Loaded) => loaded.builtins.filter((m) => !bare.builtins.includes(m));

  for (const preload of [
    ['--import', 'carbonscope/register'],
    ['-r', 'carbonscope/register'],
  ]) {
    it(`loads nothing of register's graph (${preload.join(' ')})`, async () => {
      const loaded = await workerLoads(preload);
      expect(extra(loaded)).to.deep.equal([]);
      // Under -r, the entry itself is a CommonJS require (of an ES module): nothing else.
      const own = join(libraryRoot, 'dist', 'src', 'register.js');
      expect(loaded.commonjs.filter((file) => file !== own)).to.deep.equal([]);
    });
  }

  // The probe sees the load it looks for: a bundle's entry, which loads the graph everywhere.
  it("sees register-eager's graph where it is loaded", async () => {
    const eager = join(libraryRoot, 'dist', 'src', 'register-eager.js');
    const loaded = await workerLoads(['--import', eager]);
    expect(extra(loaded)).to.include.members(['http', 'cluster']);
    expect(loaded.commonjs.some((file) => file.includes('@opentelemetry/api'))).to.equal(true);
  });
});

// Node's entry only loads the rest: where that load throws (the entry alone, as a bundle that
// took the `module-sync` condition leaves it; the rest failing as it evaluates), register must
// not stop the application, as it does not when it fails later: one line, and it runs unmetered.
describe('register whose rest cannot load', function () {
  this.timeout(60_000);
  const APP = 'console.log("app ran")';
  const env = () =>
    childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300', OTEL_METRICS_EXPORTER: 'none' });
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir('register-alone'));
    copyFileSync(join(libraryRoot, 'dist', 'src', 'register.js'), join(dir, 'register.mjs'));
  });
  after(() => cleanup());

  /** The run's stderr is one line that names the failure: the application ran and ended well. */
  function ranUnmetered(run: Finished, failure: RegExp): void {
    expect(run.stdout, run.stderr).to.equal('app ran\n');
    expect(run.code, run.stderr).to.equal(0);
    expect(linesOf(run.stderr), run.stderr).to.have.length(1);
    expect(run.stderr).to.match(/^carbonscope: error: carbonscope\/register: /);
    expect(run.stderr)
      .to.match(failure)
      .and.match(/; the application runs unmetered\n$/);
  }

  for (const preload of ['--import', '-r']) {
    it(`the entry alone (${preload}): one line, the application runs`, async () => {
      const entry = join(dir, 'register.mjs');
      const run = await runToEnd(process.execPath, [preload, entry, '-e', APP], env());
      ranUnmetered(run, /register-eager\.js/);
    });
  }

  it('the rest throws as it evaluates: one line, the application runs', async () => {
    // register's first act on globalThis, made to throw: its slot is defined (not enumerable), and
    // a slot another made read-only and unconfigurable cannot be redefined.
    const poison = `Object.defineProperty(globalThis, Symbol.for('carbonscope.register-present.v1'), { value: false })`;
    const args = ['--import', `data:text/javascript,${poison}`, '--import', 'carbonscope/register'];
    const run = await runToEnd(process.execPath, [...args, '-e', APP], env(), {
      cwd: libraryRoot,
    });
    ranUnmetered(run, /Cannot redefine property/);
  });

  // Under Yarn Plug'n'Play (its .pnp.cjs sets process.versions.pnp), -r's line says to start
  // register with --import instead; --import's line must not tell a user to do what they did.
  for (const preload of ['--import', '-r']) {
    it(`under Plug'n'Play, ${preload}'s line advises --import only where it was not used`, async () => {
      // A -r preload, which runs before both: the marker's poison as above, and Yarn's mark.
      const before = join(dir, 'pnp-poison.cjs');
      writeFileSync(
        before,
        `process.versions.pnp = '3';
Object.defineProperty(globalThis, Symbol.for('carbonscope.register-present.v1'), { value: false });`,
      );
      const args = ['-r', before, preload, 'carbonscope/register', '-e', APP];
      const run = await runToEnd(process.execPath, args, env(), { cwd: libraryRoot });
      ranUnmetered(run, /Cannot redefine property/);
      const advised = run.stderr.includes('start it with --import carbonscope/register');
      expect(advised, run.stderr).to.equal(preload === '-r');
    });
  }
});
