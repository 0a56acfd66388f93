import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';

const PRESENT = "console.log(globalThis[Symbol.for('carbonscope.register-present.v1')] === true)";

// package.json's exports name `node-addons`, a condition Node drops under `--no-addons`: where
// Node has require(esm), `module-sync` comes first and register must load there all the same.
describe('carbonscope/register under node --no-addons', function () {
  this.timeout(60_000);

  for (const flag of ['--import', '--require']) {
    it(`${flag} carbonscope/register registers`, async () => {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--no-addons', flag, 'carbonscope/register', '-e', PRESENT],
        { cwd: libraryRoot, env: childEnv({ OTEL_METRICS_EXPORTER: 'none' }), timeout: 30_000 },
      );
      expect({ stdout, stderr }).to.deep.equal({ stdout: 'true\n', stderr: '' });
    });
  }
});
