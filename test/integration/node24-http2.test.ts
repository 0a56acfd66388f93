import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { node24 } from '../helpers/packed-library.js';

/**
 * HTTP/2 tracking finds its servers through a channel and events that Node 24 offers beside its
 * own `http2.server.stream.*` channels: the library's HTTP/2 tests are run again on the Node 24
 * binary the test setup installs (the image's line), where a request must still be counted once.
 */
describe('HTTP/2 request tracking on Node 24 (the image runtime)', function () {
  this.timeout(120_000);

  it("passes the library's HTTP/2 tests", async () => {
    const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
    const file = fileURLToPath(import.meta.resolve('#library-tests/unit/http/http2.test.js'));
    const args = [mocha, '--no-config', '--exit', '--timeout', '60000', file];
    const { stdout } = await promisify(execFile)(await node24(), args, { timeout: 100_000 });
    expect(stdout).to.match(/\b[1-9]\d* passing\b/);
    expect(stdout).not.to.match(/failing/);
  });
});
