import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { childEnv } from '../helpers/child-env.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

const HOOK = join(libraryRoot, 'test', 'fixtures', 'register', 'http-imports.mjs');

// An ESM import of node:http makes Node 24 read every export to build its facade, and
// http.WebSocket's getter loads undici, node:http2 and node:tls: 40-65 ms more at each start of
// a CommonJS app or `node -e 0` under register. Asked of the imports made, not of a time, and
// through a whole run: the start, the first sample and the last push at the end.
describe('register and node:http', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir('register-http-imports'));
  });
  after(() => cleanup());

  // register's entry require()s the rest, which a loader's hook may not see; the bundlers' entry
  // (register-eager, the same graph) is imported: the hook sees that whole.
  for (const entry of [
    'carbonscope/register',
    join(libraryRoot, 'dist', 'src', 'register-eager.js'),
  ]) {
    it(`never imports node:http as an ES module (${entry.replace(libraryRoot, '.')})`, async () => {
      const log = join(dir, `imports-${entry.length}.txt`);
      writeFileSync(log, '');
      const script = 'setTimeout(() => {}, 300)';
      await promisify(execFile)(
        process.execPath,
        ['--import', HOOK, '--import', entry, '-e', script],
        {
          cwd: libraryRoot,
          env: childEnv({
            HTTP_IMPORTS_LOG: log,
            ENERGY_SOURCE: 'estimate',
            CARBON_INTENSITY: '300',
            // Nothing listens here: the push at the end fails fast, and its agent is made.
            OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
          }),
        },
      );
      expect(readFileSync(log, 'utf8')).to.equal('');
    });
  }

  // The hook sees what it looks for: a module of the dist that imports node:http.
  it('sees such an import where one is made', async () => {
    const log = join(dir, 'seen.txt');
    writeFileSync(log, '');
    const probe = join(dir, 'dist', 'src', 'probe.mjs');
    mkdirSync(join(dir, 'dist', 'src'), { recursive: true });
    writeFileSync(probe, "import 'node:http';\n");
    await promisify(execFile)(process.execPath, ['--import', HOOK, probe], {
      env: childEnv({ HTTP_IMPORTS_LOG: log }),
    });
    expect(readFileSync(log, 'utf8')).to.include('probe.mjs');
  });
});
