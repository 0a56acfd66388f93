import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { runToEnd } from '../helpers/spawn.js';

const ZIP_LIKE = join(libraryRoot, 'test', 'fixtures', 'register', 'zip-like-loader.mjs');
const PRESENT = "globalThis[Symbol.for('carbonscope.register-present.v1')]";

// Yarn Plug'n'Play keeps packages in zip archives that only its loader's hooks reach. Node 20's
// require() of an ES module resolves that module's imports with its own resolver, past the
// hooks: register's entry, which loaded the rest so, found none of it ("Cannot find module
// …/before-exit.js") and the application ran unmetered. Under --import it loads the rest by
// import(), which the hooks see.
describe('register under a loader that serves carbonscope from outside the disk', function () {
  this.timeout(60_000);

  it('--import carbonscope/register starts, every module through the hooks', async () => {
    const app = `console.log('app ran', ${PRESENT} === true)`;
    const run = await runToEnd(
      process.execPath,
      ['--import', ZIP_LIKE, '--import', 'carbonscope/register', '-e', app],
      childEnv({
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        OTEL_METRICS_EXPORTER: 'none',
      }),
      { cwd: libraryRoot },
    );
    expect(run.stderr).to.equal('');
    expect(run.stdout).to.equal('app ran true\n');
    expect(run.code).to.equal(0);
  });
});
