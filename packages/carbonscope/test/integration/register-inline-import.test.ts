import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';

const APP = join(libraryRoot, 'test', 'fixtures', 'register', 'inline-import.mjs');

// ES modules a module imports are evaluated in turn without waiting for one that awaits at its
// top level: an entry that awaited its import() of the rest let the application's next module
// run before register had acted (its marker, its word to instrumentation, its route resolvers).
describe('register imported on the application first line', function () {
  this.timeout(60_000);

  it('has acted when the application next module runs', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [APP], {
      cwd: libraryRoot,
      env: childEnv({
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        OTEL_METRICS_EXPORTER: 'none',
      }),
    });
    expect(stdout).to.equal('register present: true\n');
  });
});
