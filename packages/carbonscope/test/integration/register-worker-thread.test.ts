import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';

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
// (~250 modules) made each worker of a pool start in 0.35 s instead of 0.05. Asked of the modules
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
